// The preset files in configs/: every one loads, bad files fail with errors that name the file,
// the key and what was expected, the parameter counts their descriptions state are those of the
// models they build, the gpu size tier is exactly the presets, and `npm run train -- --preset`
// trains one with command-line flags overriding it and records which preset it was.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");
const { CONFIGS_DIR } = require("../dist/train/configs");

const CLI = path.join(__dirname, "..", "dist", "cli", "train.js");
const PRESETS = [
  "annotated-s4-classification",
  "annotated-s4-sequence",
  "annotated-s4-sequence-large",
  "mamba-classification",
  "mamba-sequence",
];

function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `s4-configs-${tag}-`));
}

/** Writes `value` as a config file in a fresh folder and returns its path. */
function writeConfig(tag, value) {
  const file = path.join(tmpDir(tag), `${tag}.json`);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

function cli(args) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
}

/** The model a config's options build, as the training loop builds it (embedding for the mnist task's pixel tokens). */
function paramCount(o) {
  const sequence = o.task === "mnist";
  const model = new lib.nn.StackedModel({
    task: sequence ? "sequence" : "classification",
    layerKind: o.layer,
    dModel: o.dModel,
    nLayers: o.nLayers,
    n: o.n,
    l: 784,
    numClasses: sequence ? 256 : 10,
    prenorm: o.prenorm,
    dropout: o.dropout,
    embedding: sequence,
    ...(o.layer === "mamba" ? { expand: o.expand, dConv: o.dConv } : {}),
  });
  try {
    return model.countParams();
  } finally {
    model.dispose();
  }
}

/** The first "N parameters" a description states, digits grouped by spaces. */
function statedCount(description) {
  const m = /(\d{1,3}(?: \d{3})*) parameters/.exec(description);
  assert.ok(m, `no parameter count in ${JSON.stringify(description)}`);
  return Number(m[1].replace(/ /g, ""));
}

describe("training configs (configs/*.json)", function () {
  it("every preset loads, complete, with a description and its source", function () {
    assert.deepEqual(lib.train.configNames(), PRESETS);
    for (const name of PRESETS) {
      const c = lib.train.loadConfig(name);
      assert.equal(c.name, name);
      assert.equal(c.file, path.join(CONFIGS_DIR, `${name}.json`));
      assert.ok(c.description.length > 50 && c.source.length > 20, name);
      for (const k of ["epochs", "bsz", "dModel", "nLayers", "n", "lr"]) assert.ok(c.options[k] > 0, `${name}.${k}`);
      assert.ok(!("description" in c.options) && !("source" in c.options), "description and source are not training options");
    }
    const a = lib.train.loadConfig("annotated-s4-classification").options;
    assert.deepEqual(
      [a.task, a.layer, a.dModel, a.nLayers, a.n, a.bsz, a.dropout, a.lr, a.epochs],
      ["mnist-classification", "s4", 128, 4, 64, 128, 0.25, 5e-3, 20],
    );
    const big = lib.train.loadConfig("annotated-s4-sequence-large").options;
    assert.deepEqual(
      [big.task, big.dModel, big.nLayers, big.prenorm, big.dropout, big.weightDecay, big.lr, big.bsz, big.epochs],
      ["mnist", 512, 6, true, 0, 0.05, 5e-3, 50, 100],
    );
  });

  it("a path loads as a config file; bad files fail naming the file, the key and what was expected", function () {
    const good = writeConfig("good", { description: "d", source: "s", task: "mnist", layer: "s4d", dModel: 8 });
    assert.deepEqual(lib.train.loadConfig(good).options, { task: "mnist", layer: "s4d", dModel: 8 });
    const bad = (tag, value, pattern) => {
      const file = writeConfig(tag, value);
      assert.throws(
        () => lib.train.loadConfig(file),
        (/** @type {Error} */ e) => e.message.includes(file) && pattern.test(e.message),
        `${tag}: expected ${pattern}`,
      );
    };
    bad(
      "unknown-key",
      { description: "d", source: "s", task: "mnist", layer: "s4", dmodel: 8 },
      /unknown key "dmodel"; expected one of description, source, task, layer, .*dModel/,
    );
    bad(
      "bad-dropout",
      { description: "d", source: "s", task: "mnist", layer: "s4", dropout: 1.5 },
      /"dropout" must be a number in \[0, 1\), got 1\.5/,
    );
    bad(
      "bad-int",
      { description: "d", source: "s", task: "mnist", layer: "s4", nLayers: 2.5 },
      /"nLayers" must be a positive integer, got 2\.5/,
    );
    bad(
      "bad-string-number",
      { description: "d", source: "s", task: "mnist", layer: "s4", lr: "5e-3" },
      /"lr" must be a number > 0, got "5e-3"/,
    );
    bad(
      "bad-bool",
      { description: "d", source: "s", task: "mnist", layer: "s4", prenorm: "yes" },
      /"prenorm" must be true or false, got "yes"/,
    );
    bad(
      "bad-task",
      { description: "d", source: "s", task: "cifar", layer: "s4" },
      /"task" must be one of "mnist", "mnist-classification", got "cifar"/,
    );
    bad(
      "bad-layer",
      { description: "d", source: "s", task: "mnist", layer: "lstm" },
      /"layer" must be one of "s4", "s4d", "ssm", "mamba", got "lstm"/,
    );
    bad("no-layer", { description: "d", source: "s", task: "mnist" }, /"layer" is missing/);
    bad("no-description", { source: "s", task: "mnist", layer: "s4" }, /"description" is missing/);
    bad(
      "mamba-only",
      { description: "d", source: "s", task: "mnist", layer: "s4", expand: 2 },
      /"expand" applies to layer "mamba" only, got layer "s4"/,
    );
    bad(
      "s4-only",
      { description: "d", source: "s", task: "mnist", layer: "mamba", conjugatePairs: true },
      /"conjugatePairs" applies to layer "s4" only, got layer "mamba"/,
    );
    bad("not-json", "{ task: mnist }", /is not valid JSON/);
    bad("array", "[1, 2]", /must hold a JSON object, got an array/);
    assert.throws(() => lib.train.loadConfig("configs/missing.json"), /config file configs\/missing\.json does not exist/);
    assert.throws(
      () => lib.train.loadConfig("annotated-s5"),
      /no preset named "annotated-s5"; the presets are annotated-s4-classification, annotated-s4-sequence, annotated-s4-sequence-large, mamba-classification, mamba-sequence/,
    );
  });

  it("the parameter counts the descriptions state are those of the models built (large ≈ 5 M; Mamba within 10 % of S4)", function () {
    this.timeout(120000);
    const before = tf.memory().numTensors;
    const counts = {};
    for (const name of PRESETS) {
      const c = lib.train.loadConfig(name);
      counts[name] = paramCount(c.options);
      const stated = statedCount(c.description);
      assert.ok(Math.abs(counts[name] / stated - 1) <= 0.01, `${name}: built ${counts[name]}, the description says ${stated}`);
    }
    assert.ok(Math.abs(counts["annotated-s4-sequence-large"] / 5e6 - 1) < 0.01, `large: ${counts["annotated-s4-sequence-large"]}`);
    for (const task of ["classification", "sequence"]) {
      const ratio = counts[`mamba-${task}`] / counts[`annotated-s4-${task}`];
      assert.ok(
        Math.abs(ratio - 1) <= 0.1,
        `mamba-${task} has ${counts[`mamba-${task}`]} parameters, annotated-s4-${task} ${counts[`annotated-s4-${task}`]}`,
      );
    }
    assert.equal(tf.memory().numTensors, before, "building and disposing the models leaks no tensor");
  });

  it("the gpu size tier is exactly the presets, plus a time limit (next-pixel modeling: 10 of its 100 epochs)", function () {
    /** @type {[import("../dist").data.TaskName, import("../dist").nn.LayerKind, string][]} */
    const cases = [
      ["mnist-classification", "s4", "annotated-s4-classification"],
      ["mnist-classification", "mamba", "mamba-classification"],
      ["mnist", "s4", "annotated-s4-sequence"],
      ["mnist", "mamba", "mamba-sequence"],
      ["mnist-classification", "s4d", "annotated-s4-classification"],
      ["mnist", "s4d", "annotated-s4-sequence"],
    ];
    for (const [task, layer, name] of cases) {
      const { timeLimitMinutes, ...rest } = lib.train.tierPreset(task, layer, "gpu");
      assert.ok(timeLimitMinutes > 0);
      const epochs = task === "mnist" ? { epochs: 10 } : {};
      assert.deepEqual(rest, { ...lib.train.loadConfig(name).options, layer, ...epochs }, `${task}/${layer}`);
    }
    const d = lib.train.describePreset(lib.train.tierPreset("mnist", "mamba", "gpu"));
    assert.equal(d.model, "mamba, d_model 120, 4 layers, d_state 16, expand 2");
    assert.equal(d.training, "batch 128, lr 0.001, 10 epochs of 55000 images (4300 steps)");
  });
});

describe("train CLI with --preset / --config", function () {
  it("flags override a preset's values; every config key reaches the training options", function () {
    let r = cli(["--preset", "annotated-s4-classification", "--epochs", "1", "--d-model", "16", "--lr", "1e-3", "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    let o = JSON.parse(r.stdout);
    assert.deepEqual([o.epochs, o.dModel, o.lr], [1, 16, 1e-3], "flags win");
    assert.deepEqual(
      [o.task, o.layer, o.nLayers, o.n, o.bsz, o.dropout, o.weightDecay, o.ssmLrScale, o.prenorm],
      ["mnist-classification", "s4", 4, 64, 128, 0.25, 0.01, 0.1, true],
      "the rest from the preset",
    );
    assert.equal(o.preset, "annotated-s4-classification");
    assert.equal(o.configFile, "configs/annotated-s4-classification.json");

    // A mamba preset with another layer drops its mamba-only sizes; a mamba-only flag on an S4 preset is an error.
    r = cli(["--preset", "mamba-sequence", "--layer", "s4d", "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    o = JSON.parse(r.stdout);
    assert.deepEqual([o.layer, o.expand, o.dConv, o.dModel], ["s4d", undefined, undefined, 120]);
    r = cli(["--preset", "annotated-s4-sequence", "--expand", "2", "--dry-run"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--expand applies to --layer mamba only, got --layer s4 \(from annotated-s4-sequence\)/);

    // S4's conjugate pairs: from a config file or the flag; the flag with another layer is an error.
    r = cli([
      "--config",
      writeConfig("pairs", { description: "d", source: "s", task: "mnist", layer: "s4", n: 8, conjugatePairs: true }),
      "--dry-run",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).conjugatePairs, true);
    r = cli(["--preset", "annotated-s4-classification", "--conjugate-pairs", "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).conjugatePairs, true);
    r = cli(["--preset", "mamba-classification", "--conjugate-pairs", "--dry-run"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /flag --conjugate-pairs applies to --layer s4 only, got --layer mamba/);

    const every = {
      description: "every key",
      source: "this test",
      task: "mnist",
      layer: "mamba",
      epochs: 3,
      bsz: 5,
      dModel: 6,
      nLayers: 2,
      n: 3,
      lr: 0.02,
      weightDecay: 0.2,
      ssmLrScale: 0.3,
      expand: 1.5,
      dConv: 3,
      dropout: 0.05,
      prenorm: false,
      clipNorm: 0.7,
      recompute: true,
      seed: 9,
      trainLimit: 11,
      valLimit: 12,
      testLimit: 13,
      evalBsz: 14,
      logEvery: 4,
      timeLimitMinutes: 2.5,
    };
    const file = writeConfig("every", every);
    r = cli(["--config", file, "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    o = JSON.parse(r.stdout);
    const { description, source, ...options } = every;
    for (const [k, v] of Object.entries(options)) assert.equal(o[k], v, k);
    assert.equal(o.preset, undefined, "a config file is not a preset");
    assert.equal(o.configFile, file, "a file outside the package is recorded by its full path");
  });

  it("rejects two whole configurations, an unknown preset, a path given to --preset and a bad config file, with exit status 2", function () {
    /** @type {[string[], RegExp][]} */
    const cases = [
      [
        ["--preset", "annotated-s4-sequence", "--tier", "gpu"],
        /flags --preset and --tier each give a whole configuration; give one of them/,
      ],
      [["--preset", "annotated-s4-sequence", "--config", "x.json"], /flags --preset and --config each give a whole configuration/],
      [["--config", "x.json", "--quick"], /flags --config and --quick each give a whole configuration/],
      [["--preset", "annotated"], /flag --preset: no preset named "annotated"; the presets are annotated-s4-classification, /],
      [["--preset", "configs/annotated-s4-sequence.json"], /flag --preset takes a preset name .*; give a file with --config/],
      [["--config", "no-such-file.json"], /flag --config: config file no-such-file\.json does not exist/],
      [
        ["--config", writeConfig("cli-bad", { description: "d", source: "s", task: "mnist", layer: "s4", bsz: 0 })],
        /flag --config: config file .*cli-bad\.json: "bsz" must be a positive integer, got 0/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = cli([...args, "--dry-run"]);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const help = cli(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--preset <value>/);
    assert.match(
      help.stdout,
      /Presets \(.*\): annotated-s4-classification, annotated-s4-sequence, annotated-s4-sequence-large, mamba-classification, mamba-sequence/,
    );
  });

  it("--preset annotated-s4-classification with small overrides trains and records the preset and its file", function () {
    this.timeout(300000);
    const out = tmpDir("run");
    const args = [
      "--preset",
      "annotated-s4-classification",
      "--epochs",
      "1",
      "--train-limit",
      "64",
      "--val-limit",
      "32",
      "--test-limit",
      "32",
      "--bsz",
      "16",
      "--d-model",
      "16",
      "--backend",
      "wasm",
      "--out",
      out,
    ];
    const r = cli(args);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(summary.preset, "annotated-s4-classification");
    assert.equal(summary.config_file, "configs/annotated-s4-classification.json");
    assert.equal(summary.command, `npm run train -- ${args.join(" ")}`);
    const c = summary.config;
    assert.deepEqual([c.dModel, c.bsz, c.epochs, c.trainLimit], [16, 16, 1, 64], "the flags");
    assert.deepEqual(
      [c.layer, c.nLayers, c.n, c.lr, c.dropout, c.weightDecay, c.ssmLrScale, c.prenorm],
      ["s4", 4, 64, 5e-3, 0.25, 0.01, 0.1, true],
      "the preset",
    );
    assert.equal(summary.steps, 4);
    assert.ok(summary.test_accuracy >= 0 && summary.test_examples === 32);
  });
});
