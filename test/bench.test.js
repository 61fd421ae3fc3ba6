// `npm run bench` and `npm run bench-scans`: the commands run, write their JSON in the documented
// format (medians of at least three warm runs, or a single run said so), and refuse bad flags.
// Timings themselves are never asserted: they depend on the machine.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const assert = require("node:assert/strict");

const ROOT = path.resolve(__dirname, "..");
const BENCH = path.join(ROOT, "dist", "cli", "bench.js");
const bench = (args) => spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: "utf8" });
const BENCH_SCANS = path.join(ROOT, "dist", "cli", "bench-scans.js");
const { MIN_WARM_RUNS, measure, planFor } = require("../dist/cli/bench-timing");

/**
 * Every timed side has its reps: a median of at least MIN_WARM_RUNS warm runs, or 1, and then
 * the side is listed in single_run (and only then).
 */
function checkReps(e, sides, what) {
  assert.ok(Array.isArray(e.single_run), `${what}: single_run is a list: ${JSON.stringify(e)}`);
  for (const side of sides) {
    const reps = e.reps[side];
    assert.ok(Number.isInteger(reps) && (reps === 1 || reps >= MIN_WARM_RUNS), `${what} reps.${side}: ${reps}`);
    const listed = e.single_run.includes(side);
    assert.equal(listed, reps === 1, `${what}: single_run ${JSON.stringify(e.single_run)}, reps.${side} ${reps}`);
  }
  for (const side of e.single_run) assert.ok(sides.includes(side), `${what}: single_run names untimed ${side}`);
}

/** A table row's time cells for one result: single runs carry the mark, medians do not. */
function checkMarks(cells, e, sides, what) {
  sides.forEach((side, i) => {
    if (!(side in e.reps)) return;
    const marked = cells[i].endsWith("*");
    assert.equal(marked, e.single_run.includes(side), `${what}: table cell "${cells[i]}" for ${side}`);
  });
}

describe("bench timing: medians of warm runs, or a single run", () => {
  /** A stand-in for one timed run that takes `ms` (as it reports) and counts its calls. */
  const fakeRun = (ms) => {
    const run = async () => {
      run.calls++;
      return typeof ms === "function" ? ms(run.calls) : ms;
    };
    run.calls = 0;
    return run;
  };

  for (const [quick, large] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`planFor(quick ${quick}, large ${large}): at least ${MIN_WARM_RUNS} warm runs after a warm-up`, async () => {
      const plan = planFor(quick, large);
      const run = fakeRun((k) => (k === 1 ? plan.singleRunMs / 2 : 5 + k));
      const t = await measure(run, plan);
      assert.ok(t.reps >= MIN_WARM_RUNS, `reps ${t.reps}`);
      assert.ok(run.calls >= t.reps + 1, `${run.calls} runs for ${t.reps} timed: the first is a warm-up`);
      assert.ok(t.ms > 5 && t.ms < plan.singleRunMs / 2, `the median leaves the cold run out: ${t.ms}`);
    });
  }

  it("a first run over singleRunMs is the only sample: reps 1", async () => {
    const plan = planFor(true, false);
    const run = fakeRun(plan.singleRunMs + 1);
    assert.deepEqual(await measure(run, plan), { ms: plan.singleRunMs + 1, reps: 1 });
    assert.equal(run.calls, 1);
  });

  it("a run just under singleRunMs is still repeated", async () => {
    const plan = planFor(false, false);
    const run = fakeRun(plan.singleRunMs - 1);
    const t = await measure(run, plan);
    assert.equal(t.reps, MIN_WARM_RUNS);
    assert.equal(run.calls, MIN_WARM_RUNS + 1);
  });
});

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
    const { command, run, results } = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.match(command, /^npm run bench -- --quick --only depthwise_conv1d --backend cpu --json /);
    assert.equal(run.backend, "cpu");
    for (const key of ["commit", "device", "host_threads", "node", "tfjs", "started_at", "finished_at"])
      assert.ok(key in run, `run.${key}`);
    assert.ok(Array.isArray(results) && results.length === 1, `one entry, got ${JSON.stringify(results)}`);
    const e = results[0];
    assert.equal(e.op, "depthwise_conv1d");
    assert.equal(e.backend, "cpu");
    assert.equal(typeof e.shape, "string");
    for (const key of ["fwd_ms", "fwd_bwd_ms"]) assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${key}: ${e[key]}`);
    // The reference may be cut short by its time limit, so its fields are optional.
    for (const key of ["ref_fwd_ms", "ref_fwd_bwd_ms"]) if (key in e) assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${key}: ${e[key]}`);
    const refSides = ["ref_fwd", "ref_fwd_bwd"].filter((side) => `${side}_ms` in e);
    const timed = ["fwd", "fwd_bwd", ...refSides];
    checkReps(e, timed, "bench");
    const row = r.stdout.split("\n").find((l) => l.startsWith("depthwise_conv1d"));
    const cells = row.split(/\s{2,}/).slice(3, 7);
    checkMarks(cells, e, ["fwd", "fwd_bwd", "ref_fwd", "ref_fwd_bwd"], "bench");
    assert.match(r.stdout, /reps: warm runs behind each median .* the median of 3–5 warm runs/);
    if (e.single_run.length) assert.match(r.stdout, /^\* single run \(reps 1; \d+ in this table\)/m);
    // Written through a temporary file and a rename: nothing else is left beside it.
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["bench.json"]);
  });

  it("the WebGPU scan case times the chunked kernel against its sequential twin, both with the kernels on (worker, --quick)", function () {
    const probe = spawnSync(
      process.execPath,
      [
        "-e",
        `require(${JSON.stringify(path.join(ROOT, "dist", "index.js"))}).useBackend("webgpu", { quiet: true }).then(() => process.exit(0), () => process.exit(3))`,
      ],
      { encoding: "utf8" },
    );
    if (probe.status === 3 && process.env.S4_REQUIRE_WEBGPU !== "1") this.skip();
    const { CASES } = require("../dist/cli/bench-cases");
    const twins = CASES.find((c) => c.key === "selective_scan_webgpu");
    assert.ok(twins && twins.referenceIsKernel, "a selective_scan case whose reference is the sequential kernel");
    assert.match(twins.skip("wasm", { fastestCpu: "wasm", realGpu: false }), /compares the two WebGPU kernels/);
    for (const variant of ["fast", "reference"]) {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, "dist", "cli", "bench-worker.js"), "webgpu", "selective_scan_webgpu", variant, "--quick"],
        { encoding: "utf8" },
      );
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const events = r.stdout
        .split("\n")
        .filter((l) => l.startsWith("@bench "))
        .map((l) => JSON.parse(l.slice(7)));
      const measured = events.filter((e) => e.event === "measured").map((e) => e.what);
      assert.deepEqual(measured, ["fwd", "fwd_bwd"], `${variant}: ${r.stdout}`);
      assert.ok(!events.some((e) => e.event === "leaked"), `${variant} leaked: ${r.stdout}`);
    }
  });

  it("bench-scans --quick: medians of warm runs or single runs, in the JSON and the table", () => {
    const file = path.join(dir, "scans.json");
    const args = [BENCH_SCANS, "--quick", "--backend", "wasm", "--json", file];
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const { results } = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.equal(results.length, 5);
    for (const e of results) {
      checkReps(e, ["fwd", "fwd_bwd"], e.variant);
      const row = r.stdout.split("\n").find((l) => l.startsWith(e.variant));
      checkMarks(row.split(/\s{2,}/).slice(1, 3), e, ["fwd", "fwd_bwd"], e.variant);
    }
    assert.match(r.stdout, /reps: warm runs behind each median \(fwd\/fwd\+bwd\): 1 warm-up run, then the median of 3–5/);
  });

  for (const [args, message] of /** @type {[string[], RegExp][]} */ ([
    [["--frobnicate"], /bench: unknown flag --frobnicate/],
    [["--only", "fft"], /bench: --only: unknown op "fft", expected one of s4_layer, causal_conv, selective_scan, depthwise_conv1d/],
    [["--backend", "tpu"], /bench: --backend: unknown backend "tpu", expected one of/],
    [["--json"], /bench: --json needs a value/],
    [["extra"], /bench: unexpected argument "extra"/],
  ])) {
    it(`${args.join(" ")} is a usage error: exit status 2 and a message`, () => {
      const r = bench(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run bench/);
    });
  }
});
