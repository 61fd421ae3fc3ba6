// `npm run bench -- --step`: the step counters on hand-made computations with known counts, and
// the command on a tiny model: its JSON, deterministic counts, one read-back per step, and on
// WebGPU uploads of exactly the batch. Timings are never asserted.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { tf, lib, assert, describeWebGPU } = require("./helpers");
const { countDeviceTraffic, countKernels, DeviceTrafficCounter, topCounts } = require("../dist/train/step-counters");

const ROOT = path.resolve(__dirname, "..");
const BENCH = path.join(ROOT, "dist", "cli", "bench.js");
const benchStep = (args) => spawnSync(process.execPath, [BENCH, "--step", ...args], { cwd: ROOT, encoding: "utf8" });

/** A tiny S4 classifier: the preset's training setup at sizes that run in seconds. */
const TINY = ["--preset", "annotated-s4-classification", "--bsz", "2", "--d-model", "8", "--n-layers", "1", "--n", "8"];
const L = 784;

/** Methods the counters wrap; none may stay on the backend instance afterwards. */
const WRAPPED = ["recordAndSubmit", "uploadToGPU", "makeUniforms", "getBufferData", "read", "readSync"];
function assertRestored() {
  const backend = tf.engine().backend;
  for (const m of WRAPPED)
    assert.ok(!Object.prototype.hasOwnProperty.call(backend, m), `${m} is still wrapped on the ${tf.getBackend()} backend`);
  assert.ok(!Object.prototype.hasOwnProperty.call(tf.engine(), "makeTensor"), "engine.makeTensor is still wrapped");
}

/** a + b of two tensors made from host arrays inside the counted work, then one read. */
async function addAndRead(n) {
  const a = tf.tensor1d(new Float32Array(n).fill(1));
  const b = tf.tensor1d(new Float32Array(n).fill(2));
  const c = tf.add(a, b);
  const values = await c.data();
  tf.dispose([a, b, c]);
  return values;
}

describe("step counters on cpu", () => {
  before(async () => lib.useBackend("cpu", { quiet: true }));
  afterEach(assertRestored);

  it("tf.add of two uploaded tensors and one read: 2 uploads, 1 read-back, 1 sync, no GPU programs", async () => {
    const before = tf.memory().numTensors;
    const { result, traffic } = await countDeviceTraffic(() => addAndRead(5));
    assert.deepEqual(Array.from(result), [3, 3, 3, 3, 3]);
    assert.deepEqual(traffic, {
      programs: null,
      uploads: 2,
      upload_bytes: 40,
      upload_sizes: { 20: 2 },
      uniform_writes: null,
      uniform_bytes: null,
      readbacks: 1,
      readback_bytes: 20,
      syncs: 1,
    });
    assert.equal(tf.memory().numTensors, before);
  });

  it("tensors made before counting are not uploads, and a kernel's outputs are not either", async () => {
    const a = tf.ones([4]),
      b = tf.ones([4]);
    const { traffic } = await countDeviceTraffic(() => tf.dispose(tf.mul(tf.add(a, b), a)));
    assert.equal(traffic.uploads, 0);
    assert.equal(traffic.readbacks, 0);
    tf.dispose([a, b]);
  });

  it("countKernels: tf.add is 1 kernel; snapshots count the kernels so far", async () => {
    const a = tf.ones([3]),
      b = tf.ones([3]);
    const flag = tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS");
    let before;
    const { counts } = await countKernels(async (soFar) => {
      const c = tf.add(a, b);
      before = soFar();
      const d = tf.mul(c, c);
      await d.data();
      tf.dispose([c, d]);
    });
    assert.equal(before, 1);
    assert.deepEqual(counts, { kernels: 2, by_name: { Add: 1, Multiply: 1 } });
    assert.equal(tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS"), flag, "the flag is restored");
    tf.dispose([a, b]);
  });

  it("counts are the same every time, and snapshots see the counts so far", async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      /** @type {import("../dist/train/step-counters").DeviceTraffic} */
      let mid;
      const { traffic } = await countDeviceTraffic(async (counter) => {
        const a = tf.tensor1d([1, 2, 3]);
        mid = counter.snapshot();
        await a.data();
        a.dispose();
      });
      runs.push({ mid, traffic });
    }
    assert.deepEqual(runs[0], runs[1]);
    assert.equal(runs[0].mid.uploads, 1);
    assert.equal(runs[0].mid.readbacks, 0);
    assert.equal(runs[0].traffic.readbacks, 1);
  });

  it("one counter at a time, and a failing function leaves the backend as it was", async () => {
    const c = DeviceTrafficCounter.start();
    assert.throws(() => DeviceTrafficCounter.start(), /a counter is already running/);
    c.stop();
    await assert.rejects(
      countDeviceTraffic(() => {
        throw new Error("boom");
      }),
      /boom/,
    );
    // and counting works again afterwards
    const { traffic } = await countDeviceTraffic(() => addAndRead(2));
    assert.equal(traffic.uploads, 2);
  });

  it("topCounts: most frequent first, ties by name", () => {
    assert.deepEqual(topCounts({ b: 2, a: 2, c: 5, d: 1 }, 3), [
      { name: "c", count: 5 },
      { name: "a", count: 2 },
      { name: "b", count: 2 },
    ]);
  });
});

describeWebGPU("step counters on webgpu", function () {
  afterEach(assertRestored);

  it("tf.add of two uploaded tensors and one read: 1 program, 2 uploads, 1 uniform write, 1 read-back", async () => {
    // 1024 elements: smaller inputs that live on the host would be added on the CPU instead.
    const n = 1024;
    await addAndRead(n); // compiles the shader outside the count
    const { result, traffic } = await countDeviceTraffic(() => addAndRead(n));
    assert.equal(result[n - 1], 3);
    assert.equal(traffic.programs, 1);
    assert.equal(traffic.uploads, 2);
    assert.equal(traffic.upload_bytes, 2 * 4 * n);
    assert.equal(traffic.uniform_writes, 1);
    assert.ok(traffic.uniform_bytes > 0, `uniform bytes ${traffic.uniform_bytes}`);
    assert.equal(traffic.readbacks, 1);
    assert.equal(traffic.readback_bytes, 4 * n);
    assert.equal(traffic.syncs, 1);
  });

  it("a second read of the same tensor is served from its host copy: no read-back", async () => {
    const a = tf.tidy(() => tf.add(tf.ones([2048]), 1));
    await a.data();
    const { traffic } = await countDeviceTraffic(() => a.data());
    assert.equal(traffic.readbacks, 0);
    assert.equal(traffic.syncs, 0);
    a.dispose();
  });
});

/** Checks what every backend's entry of the JSON holds. */
function checkResult(r, backend, bsz) {
  assert.equal(r.backend, backend);
  assert.equal(typeof r.device, "string");
  assert.ok(Number.isInteger(r.kernels) && r.kernels > 100, `kernels ${r.kernels}`);
  assert.equal(r.kernels_before_read + 1, r.kernels, "the read is one kernel (the stack of loss and accuracy)");
  assert.ok(r.kernel_histogram.length === 15 && r.kernel_histogram.every((k) => typeof k.name === "string" && k.count > 0));
  assert.ok(r.kernel_histogram.reduce((s, k) => s + k.count, 0) <= r.kernels);
  // Deterministic: both counted steps agree, kernels and traffic alike.
  assert.equal(r.deterministic, true);
  assert.equal(r.counted_steps.traffic.length, 2);
  assert.deepEqual(r.counted_steps.traffic[0], r.counted_steps.traffic[1]);
  assert.deepEqual(r.counted_steps.kernels[0], r.counted_steps.kernels[1]);
  // The loss and accuracy come back in one read, and nothing else is read during the step.
  assert.equal(r.traffic.readbacks, 1, `read-backs per step: ${JSON.stringify(r.traffic)}`);
  assert.equal(r.traffic.readback_bytes, 8, "two float32 scalars");
  assert.equal(r.traffic.syncs, 1);
  assert.equal(r.traffic_before_read.readbacks, 0);
  assert.ok(r.traffic.uploads >= 2, "at least the batch and its labels");
  assert.ok(r.traffic.upload_bytes >= bsz * L * 4 + bsz * 4);
  assert.ok(r.warm_runs >= 3 && r.step_ms.length === r.warm_runs && r.median_step_ms > 0);
  assert.ok(Number.isFinite(r.last_loss) && r.last_accuracy >= 0 && r.last_accuracy <= 1);
  assert.equal(r.leaked_tensors, 0);
  assert.equal(r.run.backend, backend);
}

describe("npm run bench -- --step", function () {
  this.timeout(180000);
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-step-test-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("on cpu: a table row, and JSON with the preset, sizes, counts and versions", () => {
    const file = path.join(dir, "cpu.json");
    const r = benchStep([...TINY, "--backend", "cpu", "--json", file]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(
      r.stdout,
      /backend\s+kernels\s+GPU programs\s+uploads\s+upload bytes\s+uniform bytes\s+read-backs\s+read-back bytes\s+syncs\s+median step ms\s+warm runs/,
    );
    assert.match(r.stdout, /^cpu\s+\d+\s+-\s+\d+\s+\d+\s+-\s+1\s+8\s+1\s+[\d.]+\s+3$/m);
    assert.match(r.stdout, /cpu: counts are deterministic: identical in 2 counted steps/);
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.equal(doc.preset, "annotated-s4-classification");
    assert.equal(doc.config_file, path.join("configs", "annotated-s4-classification.json"));
    assert.deepEqual(
      {
        bsz: doc.sizes.bsz,
        dModel: doc.sizes.dModel,
        nLayers: doc.sizes.nLayers,
        n: doc.sizes.n,
        l: doc.sizes.l,
        layer: doc.sizes.layer,
        task: doc.sizes.task,
      },
      { bsz: 2, dModel: 8, nLayers: 1, n: 8, l: L, layer: "s4", task: "mnist-classification" },
    );
    assert.equal(doc.sizes.dropout, 0.25, "the rest of the preset is kept");
    assert.ok(doc.sizes.params > 0);
    assert.equal(doc.tfjs, tf.version_core);
    assert.equal(doc.node, process.version);
    assert.ok(!Number.isNaN(Date.parse(doc.date)));
    assert.match(doc.counts_note, /deterministic/);
    assert.equal(doc.results.length, 1);
    const res = doc.results[0];
    checkResult(res, "cpu", 2);
    assert.equal(res.traffic.programs, null);
    assert.equal(res.traffic.uniform_bytes, null);
    assert.deepEqual(fs.readdirSync(dir), ["cpu.json"], "written atomically: no temporary file left");
  });

  for (const [args, message] of /** @type {[string[], RegExp][]} */ ([
    [["--backend", "cpu"], /--preset is required/],
    [["--preset", "no-such-preset"], /--preset: no preset named "no-such-preset"/],
    [["--preset", "mamba-classification", "--backend", "tensorflow"], /--backend: "tensorflow" is not one of webgpu, wasm, cpu/],
    [["--preset", "mamba-classification", "--steps", "2"], /--steps must be an integer >= 3, got "2"/],
    [["--preset", "mamba-classification", "--bsz", "0"], /--bsz must be an integer >= 1, got "0"/],
    [["--preset", "mamba-classification", "--frobnicate"], /unknown flag --frobnicate/],
  ])) {
    it(`--step ${args.join(" ")} is a usage error: exit status 2 and a message`, () => {
      const r = benchStep(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run bench -- --step --preset NAME/);
    });
  }
});

describeWebGPU("npm run bench -- --step on webgpu", function () {
  this.timeout(300000);

  it("GPU programs and uniforms are counted, one read-back per step, and the only uploads are the batch", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-step-test-"));
    try {
      const file = path.join(dir, "webgpu.json");
      const r = benchStep([...TINY, "--backend", "webgpu", "--json", file]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const res = JSON.parse(fs.readFileSync(file, "utf8")).results[0];
      checkResult(res, "webgpu", 2);
      assert.match(res.device, /^WebGPU: /);
      assert.ok(res.traffic.programs > 100, `programs ${res.traffic.programs}`);
      assert.equal(res.traffic.uniform_writes, res.traffic.programs, "one uniform write per dispatch");
      assert.ok(res.traffic.uniform_bytes > 0);
      assert.equal(res.traffic.programs - res.traffic_before_read.programs, 1, "the read stacks loss and accuracy in one program");
      // x (2, 784, 1) float32 and y (2) int32, and nothing else: no per-step scalars or constants.
      const batchBytes = 2 * L * 4 + 2 * 4;
      assert.deepEqual(
        { uploads: res.traffic.uploads, upload_bytes: res.traffic.upload_bytes },
        { uploads: 2, upload_bytes: batchBytes },
        `uploads per step by size (bytes → count): ${JSON.stringify(res.traffic.upload_sizes)}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
