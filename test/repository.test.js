// The repository stands alone: a user's clone has nothing beside it, so no file of the project may
// reach outside the checkout for data (golden fixtures and the rest are kept in the repository).
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { assert } = require("./helpers");

const ROOT = path.resolve(__dirname, "..");

/** Files git tracks, or every file outside node_modules, build, dist and runs when git is absent. */
function projectFiles() {
  try {
    return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  } catch {
    const out = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (![".git", "node_modules", "build", "dist", "runs"].includes(e.name)) walk(rel);
        } else out.push(rel);
      }
    };
    walk(".");
    return out;
  }
}

describe("the repository stands alone", () => {
  it("no file refers to a shared folder beside the checkout", () => {
    // Spelled in two pieces so that this test does not find itself.
    const pattern = new RegExp(["\\.\\.", '[\\\\/]shared\\b|"\\.\\.",\\s*"shared"'].join(""));
    const offenders = [];
    for (const file of projectFiles()) {
      const full = path.join(ROOT, file);
      if (!fs.existsSync(full) || fs.statSync(full).size > 4 << 20) continue;
      const text = fs.readFileSync(full, "utf8");
      text.split("\n").forEach((line, i) => {
        if (pattern.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    assert.deepEqual(offenders, [], `files that reach outside the checkout:\n${offenders.join("\n")}`);
  });

  it("the golden fixtures the tests use are in the repository", () => {
    for (const f of ["s4-core.json", "kernels.json", "mamba.json"]) {
      assert.ok(fs.existsSync(path.join(ROOT, "test", "fixtures", f)), `test/fixtures/${f} is missing`);
    }
  });
});
