// ssm.nb: the size tiers every notebook starts with, and the helpers they share (printed checks,
// median timing, text tables); and the training presets of each tier.
const fs = require("node:fs");
const { assert, lib, tf } = require("./helpers");

const nb = lib.nb;

describe("size tiers", function () {
  it("follow the backend unless S4_SIZE or S4_QUICK says otherwise", function () {
    assert.deepEqual(nb.sizeTier({ name: "wasm" }, {}).tier, "cpu");
    assert.deepEqual(nb.sizeTier({ name: "cpu" }, {}).tier, "cpu");
    assert.deepEqual(nb.sizeTier({ name: "webgpu" }, {}).tier, "gpu");
    assert.deepEqual(nb.sizeTier({ name: "tensorflow-gpu" }, {}).tier, "gpu");
    assert.match(nb.sizeTier({ name: "wasm" }, {}).reason, /wasm backend runs on the CPU/);
    assert.deepEqual(nb.sizeTier({ name: "webgpu" }, { S4_QUICK: "1" }), { tier: "quick", reason: "S4_QUICK=1" });
    assert.deepEqual(nb.sizeTier({ name: "wasm" }, { S4_SIZE: "gpu", S4_QUICK: "1" }), { tier: "gpu", reason: "S4_SIZE=gpu" });
    assert.throws(() => nb.sizeTier({ name: "wasm" }, { S4_SIZE: "tiny" }), /S4_SIZE must be one of quick, cpu, gpu, got "tiny"/);
    assert.throws(() => nb.sizeTier(null, {}), /call chooseBackend first/);
    assert.equal(nb.byTier("cpu", { quick: 1, cpu: 2, gpu: 3 }), 2);
    // @ts-expect-error -- deliberately wrong: a tier that does not exist
    assert.throws(() => nb.byTier("big", { quick: 1, cpu: 2, gpu: 3 }), /byTier: tier must be one of/);
  });

  it("state the expected cost from measured rates, capped by time limits", function () {
    assert.equal(nb.itemMinutes({ what: "run", steps: 600, secondsPerStep: 2 }), 20);
    assert.equal(nb.itemMinutes({ what: "run", steps: 600, secondsPerStep: 2, timeLimitMinutes: 12, evalMinutes: 1 }), 13);
    const line = nb.describeTier(
      { tier: "cpu", reason: "the wasm backend runs on the CPU" },
      [
        { what: "figures", minutes: 0.5 },
        { what: "training", steps: 300, secondsPerStep: 2, timeLimitMinutes: 15 },
      ],
      "2 CPU cores",
    );
    assert.equal(
      line,
      "Size tier: cpu (the wasm backend runs on the CPU). Expected cost ≈ 11 min (figures ≈ 30 s, training ≈ 10 min), from rates measured on 2 CPU cores. Every training run stops at its time limit.",
    );
  });
});

describe("notebook helpers", function () {
  it("check prints and passes within tolerance, throws above it or on NaN", function () {
    const log = console.log;
    const lines = [];
    console.log = (s) => lines.push(s);
    try {
      nb.check("same", 1e-7, 1e-6);
      assert.throws(() => nb.check("off", 1e-3, 1e-6), /check failed: off = 0.001, above the tolerance 0.000001/);
      assert.throws(() => nb.check("nan", NaN, 1), /check failed/);
    } finally {
      console.log = log;
    }
    assert.equal(lines[0], "✔ same: 1.00e-7 (tolerance 1e-6)");
    assert.equal(nb.maxAbsDiff([1, 2, 3], [1, 2.5, 2]), 1);
    assert.ok(Number.isNaN(nb.maxAbsDiff([1, NaN], [1, 1])), "a NaN is never hidden");
    assert.throws(() => nb.maxAbsDiff([1], [1, 2]), /same length, got 1 and 2/);
    assert.equal(nb.maxAbs(new Float32Array([-3, 2])), 3);
  });

  it("take and fmt read tensors without leaking", async function () {
    const before = tf.memory().numTensors;
    assert.deepEqual(await nb.take(tf.tensor1d([1, 2])), [1, 2]);
    const t = tf.tensor2d([
      [1, -2],
      [3, 4],
    ]);
    assert.equal(await nb.fmt(t, 1), "  1.0  -2.0\n  3.0   4.0");
    t.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("timeMs is the median of warm runs with the result read back, and leaks nothing", async function () {
    assert.equal(nb.median([5, 1, 3]), 3);
    assert.equal(nb.median([4, 1, 3, 2]), 2.5);
    assert.throws(() => nb.median([]), /must not be empty/);
    const before = tf.memory().numTensors;
    let calls = 0;
    const ms = await nb.timeMs(
      () => {
        calls++;
        return tf.ones([4]);
      },
      { minRuns: 3, budgetMs: 0 },
    );
    assert.ok(ms >= 0);
    assert.equal(calls, 4, "one warm-up and three timed runs");
    assert.equal(tf.memory().numTensors, before);
    assert.equal(nb.fmtMs(3.14159), "3.14");
    assert.equal(nb.fmtMs(314.159), "314");
    assert.equal(nb.fmtMs(null), "—");
  });

  it("textTable lines up columns, CJK text included", function () {
    assert.equal(nb.displayWidth("扫描 ab"), 7);
    assert.equal(
      nb.textTable(
        ["方法", "ms"],
        [
          ["循环", 12],
          ["scan", 3],
        ],
      ),
      "方法  ms\n----  --\n循环  12\nscan   3",
    );
    assert.throws(() => nb.textTable(["a", "b"], [["x"]]), /row 0 has 1 cells, the header 2/);
  });
});

describe("training presets of the tiers", function () {
  it("exist for both tasks, every layer and tier, each with a time limit", function () {
    for (const task of /** @type {const} */ (["mnist-classification", "mnist"])) {
      for (const layer of /** @type {const} */ (["s4", "s4d", "mamba"])) {
        for (const tier of /** @type {const} */ (["quick", "cpu", "gpu"])) {
          const p = lib.train.tierPreset(task, layer, tier);
          assert.equal(p.task, task);
          assert.equal(p.layer, layer);
          assert.ok(p.timeLimitMinutes > 0, `${task}/${layer}/${tier} has no time limit`);
          for (const k of ["epochs", "bsz", "dModel", "nLayers", "n", "lr"]) assert.ok(p[k] > 0, `${task}/${layer}/${tier}.${k}`);
        }
      }
    }
    const gpu = lib.train.tierPreset("mnist-classification", "s4", "gpu");
    assert.deepEqual(
      [gpu.dModel, gpu.nLayers, gpu.n, gpu.bsz, gpu.lr, gpu.dropout, gpu.epochs],
      [128, 4, 64, 128, 5e-3, 0.25, 20],
      "the Annotated S4 classification run",
    );
    // @ts-expect-error -- deliberately wrong: a task that does not exist
    assert.throws(() => lib.train.tierPreset("cifar", "s4", "cpu"), /tierPreset: task must be/);
    // @ts-expect-error -- deliberately wrong: a layer that does not exist
    assert.throws(() => lib.train.tierPreset("mnist", "lstm", "cpu"), /tierPreset: layer must be/);
    // @ts-expect-error -- deliberately wrong: a tier that does not exist
    assert.throws(() => lib.train.tierPreset("mnist", "s4", "huge"), /tierPreset: tier must be one of quick, cpu, gpu/);
  });

  it("the shipped checkpoints load and are small", async function () {
    for (const task of /** @type {const} */ (["mnist-classification", "mnist"])) {
      const file = lib.train.shippedCheckpoint(task);
      const manifest = JSON.parse(fs.readFileSync(`${file}.json`, "utf8"));
      const bin = fs.statSync(require("node:path").join(require("node:path").dirname(file), manifest.binary)).size;
      assert.ok(bin <= 2.2e6, `${task}: ${bin} bytes`);
      const before = tf.memory().numTensors;
      const saved = await lib.train.loadModelCheckpoint(file);
      assert.equal(saved.config.model.task, task === "mnist" ? "sequence" : "classification");
      assert.equal(saved.config.model.layerKind, "s4");
      saved.model.dispose();
      assert.equal(tf.memory().numTensors, before);
    }
    // @ts-expect-error -- deliberately wrong: a task that does not exist
    assert.throws(() => lib.train.shippedCheckpoint("cifar"), /shippedCheckpoint: task must be/);
  });
});
