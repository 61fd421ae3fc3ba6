// The parts train() is made of, each on its own: the options (checked, defaults filled), the
// choice of the best epoch on validation, the epoch records, the sitting's clock and the run
// folder's files. train.test.js runs them together.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");
const { resolveOptions } = require("../dist/train/train-options");
const { epochRecord, improvesOn, initialBest, validationMetric, RunFolder } = require("../dist/train/run-folder");
const { SittingClock } = require("../dist/train/sitting-clock");
const { checkpointMeta, freshState, disposeRunState, startState } = require("../dist/train/run-state");

/** @type {import("../dist").train.TrainOptions} */
const TINY = {
  task: "mnist-classification",
  layer: "s4d",
  epochs: 1,
  bsz: 16,
  dModel: 4,
  nLayers: 1,
  n: 4,
  lr: 1e-2,
  trainLimit: 32,
  valLimit: 16,
  testLimit: 16,
  seed: 3,
};

describe("train() parts", function () {
  before(async () => lib.useBackend("wasm", { quiet: true }));

  it("resolveOptions fills the defaults and names a bad option and what it must be", function () {
    const cfg = resolveOptions(TINY);
    assert.equal(cfg.weightDecay, 0.01);
    assert.equal(cfg.ssmLrScale, 0.1);
    assert.equal(cfg.evalBsz, 64);
    assert.equal(cfg.logEvery, 1, "1 on wasm");
    assert.equal(cfg.out, path.join("runs", "mnist-classification-s4d"));
    assert.equal(cfg.expand, undefined);
    assert.equal(resolveOptions({ ...TINY, layer: "mamba" }).expand, 2);
    assert.throws(() => resolveOptions({ ...TINY, bsz: 0 }), /train: bsz must be a positive integer, got 0/);
    // @ts-expect-error -- deliberately wrong: "lstm" is not a layer kind
    assert.throws(() => resolveOptions({ ...TINY, layer: "lstm" }), /train: layer must be one of s4, s4d, ssm, mamba/);
    assert.throws(() => resolveOptions({ ...TINY, dConv: 4 }), /dConv must be unset unless layer is mamba/);
    assert.throws(() => resolveOptions({ ...TINY, dropout: 1 }), /dropout must be a number in \[0, 1\)/);
    assert.throws(() => resolveOptions(null), /options must be an object/);
  });

  it("the best epoch: lowest validation loss for next-pixel modeling, highest accuracy for classification, the first of ties", function () {
    const val = { loss: 1.5, accuracy: 0.25 };
    assert.equal(validationMetric("mnist", val), 1.5);
    assert.equal(validationMetric("mnist-classification", val), 0.25);
    assert.ok(improvesOn("mnist", 1.4, initialBest("mnist")) && improvesOn("mnist-classification", 0, initialBest("mnist-classification")));
    assert.ok(improvesOn("mnist", 1.4, 1.5) && !improvesOn("mnist", 1.5, 1.5) && !improvesOn("mnist", 1.6, 1.5));
    assert.ok(improvesOn("mnist-classification", 0.3, 0.25) && !improvesOn("mnist-classification", 0.25, 0.25));
  });

  it("epoch records keep metrics.jsonl's fields in their order; bits/dim for next-pixel modeling, partial when cut short", function () {
    const at = { epoch: 2, step: 8, lr: 0.01, wallSeconds: 3, partial: false };
    const train = { loss: 2, accuracy: 0.5 };
    const r = epochRecord("mnist-classification", at, train, { loss: 1, accuracy: 0.75 });
    assert.deepEqual(Object.keys(r), ["epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "wall_s"]);
    const s = epochRecord("mnist", { ...at, partial: true }, train, { loss: Math.LN2, accuracy: 0.75 });
    assert.deepEqual(Object.keys(s).slice(-2), ["partial", "val_bits_per_dim"]);
    assert.ok(Math.abs(s.val_bits_per_dim - 1) < 1e-12, "ln 2 nats is one bit");
  });

  it("the sitting clock stops only once its limit has passed, and never without a limit", function () {
    const none = new SittingClock();
    assert.equal(none.checkLimit(), false);
    const tiny = new SittingClock(1e-9);
    const t = Date.now();
    while (Date.now() === t) {
      // wait for the clock to tick
    }
    assert.equal(tiny.outOfTime, false, "not before a check");
    assert.equal(tiny.checkLimit(), true);
    assert.equal(tiny.outOfTime, true);
    assert.ok(none.seconds() >= 0);
  });

  it("the run folder's paths, its epoch files, and a start from `last` carrying the progress", async function () {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "s4-train-parts-"));
    const cfg = resolveOptions({ ...TINY, out });
    const folder = new RunFolder(cfg);
    assert.deepEqual(
      [folder.lastPath, folder.bestPath, folder.metricsPath, folder.summaryPath],
      ["last", "best", "metrics.jsonl", "summary.json"].map((f) => path.join(out, f)),
    );
    const before = tf.memory().numTensors;
    const task = lib.data.makeTask(cfg.task, "train", { limit: cfg.trainLimit });
    const st = await freshState(cfg, task);
    st.step = 3;
    st.best = 0.5;
    st.bestEpoch = 1;
    const at = { epoch: 1, step: 3, lr: 0.01, wallSeconds: 7, partial: true };
    const record = epochRecord(cfg.task, at, { loss: 2, accuracy: 0.1 }, { loss: 2, accuracy: 0.5 });
    st.history.push(record);
    await folder.create();
    await folder.keepEpoch(record, st.model, st.optimizer, checkpointMeta(st, { epoch: 0, batch: 1 }, cfg.seed, 7), false);
    assert.ok(RunFolder.hasCheckpoint(folder.lastPath), "last every epoch");
    assert.ok(!RunFolder.hasCheckpoint(folder.bestPath), "best only when the epoch is the best");
    assert.deepEqual(fs.readFileSync(folder.metricsPath, "utf8"), JSON.stringify(record) + "\n");
    disposeRunState(st);
    const resumed = await startState(cfg, true, folder, task);
    const progress = ["epoch", "batchInEpoch", "step", "best", "bestEpoch", "priorWall", "resumedFrom"].map((k) => resumed[k]);
    assert.deepEqual(progress, [0, 1, 3, 0.5, 1, 7, 0]);
    assert.deepEqual(resumed.history, [record]);
    disposeRunState(resumed);
    // Without resume the run starts afresh, and so does its metrics file.
    const fresh = await startState(cfg, false, folder, task);
    assert.equal(fresh.resumedFrom, null);
    assert.ok(!fs.existsSync(folder.metricsPath));
    disposeRunState(fresh);
    assert.equal(tf.memory().numTensors, before, "no tensors left");
  });
});
