// `npm run bench`: the command runs, writes its JSON in the documented format, and refuses bad
// flags. Timings themselves are never asserted: they depend on the machine.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const assert = require("node:assert/strict");

const ROOT = path.resolve(__dirname, "..");
const BENCH = path.join(ROOT, "dist", "cli", "bench.js");
const bench = (args) => spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: "utf8" });

describe("npm run bench", function () {
  this.timeout(180000);
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("--quick --only depthwise_conv1d --backend cpu prints the table and writes one JSON entry", () => {
    const file = path.join(dir, "out", "bench.json");
    const r = bench(["--quick", "--only", "depthwise_conv1d", "--backend", "cpu", "--json", file]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /op\s+backend\s+shape\s+fwd ms\s+fwd\+bwd ms/);
    assert.match(r.stdout, /depthwise_conv1d\s+cpu\s+b=16 d=128 l=784 k=4/);
    const results = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.ok(Array.isArray(results) && results.length === 1, `one entry, got ${JSON.stringify(results)}`);
    const e = results[0];
    assert.equal(e.op, "depthwise_conv1d");
    assert.equal(e.backend, "cpu");
    assert.equal(typeof e.shape, "string");
    for (const key of ["fwd_ms", "fwd_bwd_ms"]) assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${key}: ${e[key]}`);
    // The reference may be cut short by its time limit, so its fields are optional.
    for (const key of ["ref_fwd_ms", "ref_fwd_bwd_ms"]) if (key in e) assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${key}: ${e[key]}`);
    assert.ok(Number.isInteger(e.reps.fwd) && e.reps.fwd >= 1 && Number.isInteger(e.reps.fwd_bwd), `reps: ${JSON.stringify(e.reps)}`);
    // Written through a temporary file and a rename: nothing else is left beside it.
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["bench.json"]);
  });

  for (const [args, message] of [
    [["--frobnicate"], /bench: unknown flag --frobnicate/],
    [["--only", "fft"], /bench: --only: unknown op "fft", expected one of s4_layer, causal_conv, selective_scan, depthwise_conv1d/],
    [["--backend", "tpu"], /bench: --backend: unknown backend "tpu", expected one of/],
    [["--json"], /bench: --json needs a value/],
    [["extra"], /bench: unexpected argument "extra"/],
  ]) {
    it(`${args.join(" ")} is a usage error: exit status 2 and a message`, () => {
      const r = bench(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run bench/);
    });
  }
});
