/**
 * npm run check-fixtures -- [--backend <name>] <file.json> [...]
 * Runs every golden-value case against the library, one line per case with its worst error, then
 * "N passed, N failed". Exit status 1 on any failure or unknown fn, 2 on bad usage.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { chooseBackend, useBackend } from "../backend";
import { parseFixtureFile, runFixtureCase } from "../fixtures";
import { FlagError, parseFlags } from "./flags";
import { runMain } from "./run-main";

function usage(msg: string): never {
  console.error(
    `check-fixtures: ${msg}\nusage: npm run check-fixtures -- [--backend tensorflow-gpu|tensorflow|webgpu|wasm|cpu] <file.json> [...]`,
  );
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv, { backend: { type: "string" }, help: { type: "boolean", short: "h" } }, { allowPositionals: true });
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    usage(e.problem === "missing-value" ? "--backend needs a name" : e.message);
  }
  if (parsed.values.help) usage("help");
  const files = parsed.positionals;
  const backend = parsed.values.backend as string | undefined;
  if (files.length === 0) usage("no fixture file given");
  const choice = backend ? await useBackend(backend, { quiet: true }) : await chooseBackend({ quiet: true });
  console.log(`backend: ${choice.name}`);
  let passed = 0,
    failed = 0;
  for (const file of files) {
    let cases;
    try {
      cases = parseFixtureFile(readFileSync(file, "utf8"), file).cases;
    } catch (e) {
      console.log(`FAIL ${file}: ${e instanceof Error ? e.message : e}`);
      failed++;
      continue;
    }
    for (const c of cases) {
      const r = await runFixtureCase(c);
      const where = `${path.basename(file)} :: ${r.name}`;
      if (r.pass) {
        passed++;
        console.log(`pass ${where}  max|err| ${r.maxAbsErr.toExponential(2)}  (${(r.worstRatio * 100).toFixed(1)}% of tolerance)`);
      } else {
        failed++;
        const why =
          r.error ?? `max|err| ${r.maxAbsErr.toExponential(2)}, ${r.worstRatio.toFixed(2)}× the tolerance (atol ${c.atol}, rtol ${c.rtol})`;
        console.log(`FAIL ${where}  ${why}`);
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

runMain("check-fixtures", () => main(process.argv.slice(2)));
