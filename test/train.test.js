// The training loop and its command line: learning on a tiny subset, no tensor leaks, exact
// resume, metrics/summary/checkpoint files, flag errors, and the --quick preset end to end.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");

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
  trainLimit: 64,
  valLimit: 32,
  testLimit: 32,
  seed: 3,
};
const CLI = path.join(__dirname, "..", "dist", "cli", "train.js");

function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `s4-train-${tag}-`));
}

function readJsonl(file) {
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

async function paramsOf(ckpt) {
  const saved = await lib.train.loadModelCheckpoint(ckpt);
  const out = {};
  for (const [k, v] of Object.entries(saved.model.parameters())) out[k] = Array.from(v.dataSync());
  saved.model.dispose();
  if (saved.optimizerState) tf.dispose(Object.values(saved.optimizerState.tensors));
  return out;
}

describe("train loop [wasm]", function () {
  before(async () => lib.useBackend("wasm", { quiet: true }));

  it("lowers the loss on a tiny subset and keeps the tensor count flat across steps", async function () {
    const out = tmpDir("learn");
    const losses = [];
    const counts = [];
    const s = await lib.train.fit(
      { ...TINY, epochs: 6, trainLimit: 32, bsz: 16, dModel: 8, lr: 2e-2, out },
      {
        onStep: (i) => {
          losses.push(i.loss);
          counts.push(tf.memory().numTensors);
        },
      },
    );
    assert.equal(losses.length, 12);
    const first = (losses[0] + losses[1]) / 2;
    const last = (losses[10] + losses[11]) / 2;
    assert.ok(last < first - 0.05, `loss should fall: first ${first}, last ${last} (${losses.map((l) => l.toFixed(3)).join(" ")})`);
    assert.ok(
      counts.slice(1).every((c) => c === counts[1]),
      `numTensors should stay flat, got ${counts.join(" ")}`,
    );
    assert.equal(s.steps, 12);
  });

  it("writes metrics.jsonl, summary.json and loadable last/best checkpoints", async function () {
    const out = tmpDir("files");
    const before = tf.memory().numTensors;
    const s = await lib.train.fit({ ...TINY, epochs: 2, out });
    assert.equal(tf.memory().numTensors, before, "train should release every tensor it made, the model and optimizer included");
    const lines = readJsonl(path.join(out, "metrics.jsonl"));
    assert.equal(lines.length, 2);
    for (const [i, r] of lines.entries()) {
      assert.equal(r.epoch, i + 1);
      assert.equal(r.step, 4 * (i + 1));
      for (const k of ["train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "wall_s"])
        assert.ok(Number.isFinite(r[k]), `${k} = ${r[k]}`);
      assert.ok(r.val_accuracy >= 0 && r.val_accuracy <= 1);
      assert.ok(!("test_loss" in r) && !("test_accuracy" in r), "the test split is not evaluated per epoch");
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    for (const k of [
      "task",
      "layer",
      "backend",
      "params",
      "epochs",
      "wall_s",
      "best_epoch",
      "val_accuracy",
      "test_accuracy",
      "test_examples",
      "config",
      "run",
    ])
      assert.ok(k in summary, `summary lacks ${k}`);
    assert.equal(summary.task, "mnist-classification");
    assert.equal(summary.layer, "s4d");
    assert.equal(summary.backend, "wasm");
    assert.equal(summary.epochs, 2);
    assert.equal(summary.test_examples, 32);
    // The record: commit, backend, device and dates.
    assert.match(summary.run.commit, /^[0-9a-f]{40}$/);
    assert.equal(summary.run.backend, "wasm");
    assert.ok(summary.run.device.length > 0);
    assert.ok(Date.parse(summary.run.started_at) <= Date.parse(summary.run.finished_at));
    // The best checkpoint is the epoch with the best validation accuracy (the first of ties)...
    const bestVal = Math.max(...lines.map((r) => r.val_accuracy));
    assert.equal(summary.best_epoch, lines.findIndex((r) => r.val_accuracy === bestVal) + 1);
    assert.equal(summary.val_accuracy, bestVal);
    // ...and the summary's test numbers are that checkpoint on the test split.
    const best = await lib.train.loadModelCheckpoint(path.join(out, "best"));
    const ev = await lib.train.evaluate(best.model, lib.data.makeTask("mnist-classification", "test", { limit: 32 }), 64);
    best.model.dispose();
    assert.ok(
      Math.abs(ev.accuracy - summary.test_accuracy) < 1e-9 && Math.abs(ev.loss - summary.test_loss) < 1e-6,
      `test of best: ${JSON.stringify(ev)}, summary ${summary.test_accuracy} ${summary.test_loss}`,
    );
    assert.equal(summary.params, s.params);
    assert.equal(summary.config.dModel, 4);
    assert.ok(!fs.readdirSync(out).some((f) => f.endsWith(".tmp")), "no temporary files left");
    for (const name of ["last", "best"]) {
      const saved = await lib.train.loadModelCheckpoint(path.join(out, name));
      assert.equal(saved.model.countParams(), s.params);
      assert.equal(saved.config.model.dModel, 4);
      assert.ok(/** @type {number} */ (saved.meta.epoch) >= 1);
      if (name === "last") {
        assert.equal(saved.meta.epoch, 2);
        assert.equal(saved.meta.step, 8);
        assert.ok(saved.optimizerState, "last holds the optimizer state");
        assert.equal(saved.optimizerState.step, 8);
        assert.equal(/** @type {unknown[]} */ (saved.meta.history).length, 2);
        tf.dispose(Object.values(saved.optimizerState.tensors));
      }
      saved.model.dispose();
    }
  });

  it("resumes exactly: 1 epoch + resume 1 more == 2 epochs straight (with dropout)", async function () {
    const opts = { ...TINY, dropout: 0.1, epochs: 2 };
    const straight = tmpDir("straight");
    await lib.train.fit({ ...opts, out: straight });
    // Stopped by a hook right after epoch 1 (its `last` checkpoint is written), then resumed.
    const split2 = tmpDir("split2");
    await assert.rejects(
      lib.train.fit(
        { ...opts, out: split2 },
        {
          onEpoch: (r) => {
            if (r.epoch === 1) throw new Error("stop here");
          },
        },
      ),
      /stop here/,
    );
    const resumed = await lib.train.fit({ ...opts, out: split2, resume: true });
    assert.equal(resumed.resumed_from_epoch, 1);
    assert.equal(resumed.steps, 8);
    const a = await paramsOf(path.join(straight, "last"));
    const b = await paramsOf(path.join(split2, "last"));
    for (const k of Object.keys(a)) {
      const diff = Math.max(...a[k].map((v, i) => Math.abs(v - b[k][i])));
      assert.ok(diff <= 1e-6, `parameter ${k} differs by ${diff}`);
    }
    const m1 = readJsonl(path.join(straight, "metrics.jsonl"));
    const m2 = readJsonl(path.join(split2, "metrics.jsonl"));
    assert.equal(m2.length, 2);
    assert.ok(Math.abs(m1[1].train_loss - m2[1].train_loss) < 1e-6);
  });

  it("a time limit that stops inside an epoch resumes at the next batch: the same parameters as a run straight through", async function () {
    const opts = { ...TINY, dropout: 0.1, epochs: 2 };
    const straight = tmpDir("straight-mid");
    await lib.train.fit({ ...opts, out: straight });
    // A limit so small that every sitting stops after its first step.
    const split = tmpDir("split-mid");
    const first = await lib.train.fit({ ...opts, out: split, timeLimitMinutes: 1e-6 });
    assert.equal(first.steps, 1);
    assert.equal(first.stopped_by_time_limit, true);
    assert.equal(first.history[0].partial, true);
    let last = first;
    for (let sitting = 0; sitting < 20 && last.steps < 8; sitting++) {
      last = await lib.train.fit({ ...opts, out: split, resume: true, timeLimitMinutes: 1e-6 });
    }
    assert.equal(last.steps, 8, "eight steps over the sittings, one each");
    const a = await paramsOf(path.join(straight, "last"));
    const b = await paramsOf(path.join(split, "last"));
    for (const k of Object.keys(a)) {
      const diff = Math.max(...a[k].map((v, i) => Math.abs(v - b[k][i])));
      assert.ok(diff <= 1e-6, `parameter ${k} differs by ${diff}`);
    }
  });

  it("refuses to resume a checkpoint made with another model shape, naming the setting", async function () {
    const out = tmpDir("mismatch");
    await lib.train.fit({ ...TINY, out });
    await assert.rejects(lib.train.fit({ ...TINY, dModel: 8, epochs: 2, out, resume: true }), /dModel = 4.*asks for 8/);
  });

  it("stops at the time limit, then evaluates, checkpoints and says so in the summary", async function () {
    const out = tmpDir("time-limit");
    const s = await lib.train.fit({ ...TINY, epochs: 3, timeLimitMinutes: 1e-6, out });
    assert.equal(s.steps, 1, "one step, then the limit");
    assert.equal(s.stopped_by_time_limit, true);
    assert.equal(s.history.length, 1);
    assert.ok(fs.existsSync(path.join(out, "last")) || fs.readdirSync(out).some((f) => f.startsWith("last")), "no last checkpoint");
    const full = await lib.train.fit({ ...TINY, out: tmpDir("no-limit") });
    assert.equal(full.stopped_by_time_limit, false);
    await assert.rejects(lib.train.fit({ ...TINY, timeLimitMinutes: 0, out }), /timeLimitMinutes/);
  });
});

describe("train CLI", function () {
  it("exits 2 on an unknown flag or a bad value, naming it", function () {
    let r = spawnSync(process.execPath, [CLI, "--no-such-flag"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown flag "--no-such-flag"/);
    r = spawnSync(process.execPath, [CLI, "--epochs", "two"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--epochs must be an integer, got "two"/);
    r = spawnSync(process.execPath, [CLI, "--layer", "lstm"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--layer must be one of s4, s4d, ssm, mamba, got "lstm"/);
    r = spawnSync(process.execPath, [CLI, "--tier", "laptop"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--tier must be one of quick, cpu, gpu, got "laptop"/);
    r = spawnSync(process.execPath, [CLI, "--tier", "quick", "--quick"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--tier and --quick/);
    r = spawnSync(process.execPath, [CLI, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--quick/);
    assert.match(r.stdout, /--tier/);
  });

  it("--tier quick trains the notebooks' quick configuration and records the command", function () {
    this.timeout(300000);
    const out = tmpDir("tier");
    const r = spawnSync(process.execPath, [CLI, "--task", "mnist", "--layer", "s4", "--tier", "quick", "--backend", "wasm", "--out", out], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    const preset = lib.train.tierPreset("mnist", "s4", "quick");
    for (const k of ["dModel", "nLayers", "n", "bsz", "trainLimit", "valLimit", "testLimit", "timeLimitMinutes"])
      assert.equal(summary.config[k], preset[k], k);
    assert.equal(summary.command, `npm run train -- --task mnist --layer s4 --tier quick --backend wasm --out ${out}`);
    assert.ok(summary.test_bits_per_dim > 0 && summary.val_bits_per_dim > 0);
    assert.match(r.stdout, /best checkpoint: epoch 1 \(chosen on validation\); test split \(32 examples\) evaluated once on it/);
  });

  it("a step too large for wasm's 4 GiB heap fails with an error that names the sizes and --recompute, and --recompute runs it", function () {
    this.timeout(600000);
    const big = [
      "--layer",
      "mamba",
      "--d-model",
      "64",
      "--bsz",
      "64",
      "--epochs",
      "1",
      "--train-limit",
      "64",
      "--val-limit",
      "8",
      "--test-limit",
      "8",
      "--backend",
      "wasm",
    ];
    let r = spawnSync(process.execPath, [CLI, ...big, "--out", tmpDir("oom")], { encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /train: the wasm backend ran out of memory \(its heap holds at most 4 GiB\) in a training step with bsz 64, dModel 64, nLayers 4, layer mamba; set recompute \(--recompute\)/,
    );
    r = spawnSync(process.execPath, [CLI, ...big, "--recompute", "--out", tmpDir("recompute")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /test accuracy/);
  });

  it("--quick trains sequential MNIST classification well above chance", function () {
    this.timeout(300000);
    const out = tmpDir("quick");
    const r = spawnSync(process.execPath, [CLI, "--quick", "--backend", "wasm", "--out", out], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend: wasm/);
    assert.match(r.stdout, /\d+ params/);
    assert.match(r.stdout, /epoch 1 done/);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    const lines = readJsonl(path.join(out, "metrics.jsonl"));
    assert.ok(lines[lines.length - 1].train_loss < lines[0].train_loss || lines.length === 1);
    assert.ok(summary.test_accuracy > 0.3, `test accuracy ${summary.test_accuracy} should be well above chance (0.1)`);
  });
});
