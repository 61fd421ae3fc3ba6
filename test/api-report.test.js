// The committed API report (docs/api.md) lists exactly what src/index.ts exports, so that a change
// to the public surface shows up as a diff of that file.
const assert = require("node:assert/strict");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");

describe("the public API report", function () {
  it("docs/api.md matches the exports of src/index.ts (node scripts/api-report.js rewrites it)", function () {
    this.timeout(120000);
    const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "api-report.js"), "--check"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });
});
