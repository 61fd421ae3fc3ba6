// Skipping a kind of test suite that cannot run on this machine: one line per kind and mocha
// process (not one per describe block) saying what is skipped, why, and how to run it; or a
// failure instead, where an environment variable says the suite must run (CI sets them).
const announced = new Set();

/**
 * Skips the current mocha block (`ctx` is its `this`) because `why`, or throws when
 * process.env[requireVar] is "1". `kind` names the suites, `enable` says how to run them.
 */
function skipSuite(ctx, { kind, why, enable, requireVar }) {
  if (process.env[requireVar] === "1") {
    throw new Error(`${kind}: ${why}, and ${requireVar}=1 asks to run it: ${enable}`);
  }
  if (!announced.has(kind)) {
    announced.add(kind);
    const how = `To run: ${enable}; or set ${requireVar}=1 to fail instead.`;
    console.log(`      skipped: ${kind} — ${why}. ${how}`);
  }
  ctx.skip();
}

module.exports = { skipSuite };
