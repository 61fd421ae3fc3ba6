// A model checkpoint rebuilds the same model (parameters and outputs) and the optimizer state;
// its tensor file carries PyTorch state-dict names that an independent reader (Python's standard
// library) and PyTorch's load_state_dict take as they are; version 1 files still load.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { tf, lib, assert, assertClose, skipSuite } = require("./helpers");

/** Debian's interpreter by default (the one CI gives python3-torch); PYTHON overrides. */
const PYTHON = process.env.PYTHON || "/usr/bin/python3";
const READER = path.join(__dirname, "..", "scripts", "read_checkpoint.py");
const TORCH_LOADER = path.join(__dirname, "torch_mamba_load.py");

function bits(values) {
  const f = Float32Array.from(values);
  return Array.from(new Uint32Array(f.buffer));
}

/**
 * A tiny Mamba stack after one optimizer step, so the moments are not zero.
 * @param {import("../dist").nn.StackedModelOptions} opts
 */
function trainedMamba(opts) {
  const model = new lib.nn.StackedModel(opts);
  const optimizer = new lib.train.AdamW(model.parameters(), lib.train.s4ParamGroups(), { lr: 1e-2 });
  const x = tf.randomNormal([2, opts.l, 1], 0, 1, "float32", 1);
  const { grads } = tf.variableGrads(() => tf.sum(model.forward(x, { training: false })), Object.values(model.parameters()));
  optimizer.step(Object.fromEntries(Object.entries(model.parameters()).map(([n, v]) => [n, grads[v.name]])), 1e-2);
  tf.dispose([x, ...Object.values(grads)]);
  return { model, optimizer };
}

describe("model checkpoints", () => {
  let dir;
  before(async () => {
    await lib.useBackend("wasm", { quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-ckpt-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** @type {import("../dist").nn.StackedModelOptions} */
  const opts = { task: "classification", layerKind: "s4d", dModel: 4, nLayers: 1, n: 4, l: 16, numClasses: 10, seed: 3 };

  it("round trips parameters, outputs, optimizer state and meta", async () => {
    const model = new lib.nn.StackedModel(opts);
    const optimizer = new lib.train.AdamW(model.parameters(), lib.train.s4ParamGroups(), { lr: 1e-2 });
    const x = tf.randomNormal([2, 16, 1], 0, 1, "float32", 1);
    const { grads } = tf.variableGrads(() => tf.sum(model.forward(x, { training: false })), Object.values(model.parameters()));
    optimizer.step(Object.fromEntries(Object.entries(model.parameters()).map(([n, v]) => [n, grads[v.name]])), 1e-2);
    tf.dispose(Object.values(grads));
    const base = path.join(dir, "m");
    await lib.train.saveModelCheckpoint(base, model, { optimizer, meta: { epoch: 2 }, training: { lr: 1e-2 } });
    const saved = await lib.train.loadModelCheckpoint(base);
    assert.deepEqual(saved.config.model, model.opts);
    assert.equal(saved.meta.epoch, 2);
    assert.equal(saved.optimizerState.step, 1);
    for (const [n, v] of Object.entries(model.parameters())) {
      assert.deepEqual(Array.from(await saved.model.parameters()[n].data()), Array.from(await v.data()), n);
    }
    const y1 = await model.forward(x, { training: false }).data();
    const y2 = await saved.model.forward(x, { training: false }).data();
    assert.deepEqual(Array.from(y2), Array.from(y1));
    const fresh = new lib.train.AdamW(saved.model.parameters(), lib.train.s4ParamGroups(), { lr: 1e-2 });
    fresh.setState(saved.optimizerState);
    assert.equal(fresh.iterations, 1);
    tf.dispose(Object.values(saved.optimizerState.tensors));
    [model, saved.model].forEach((m) => m.dispose());
    optimizer.dispose();
    fresh.dispose();
    x.dispose();
  });

  it("refuses a checkpoint that is not a model", async () => {
    const base = path.join(dir, "other");
    await lib.train.saveCheckpoint(base, { config: { something: "else" }, tensors: { a: tf.zeros([2]) } });
    await assert.rejects(
      lib.train.loadModelCheckpoint(base),
      /does not hold a stacked model \(config\.kind is undefined, expected "stacked-model"\)/,
    );
  });

  /** @type {import("../dist").nn.StackedModelOptions} */
  const mambaOpts = { task: "classification", layerKind: "mamba", dModel: 4, nLayers: 2, n: 3, l: 6, numClasses: 5, dConv: 3, seed: 11 };

  it("a Mamba stack is saved under the reference's state-dict names and layouts", async () => {
    const { model, optimizer } = trainedMamba(mambaOpts);
    const base = path.join(dir, "mamba");
    await lib.train.saveModelCheckpoint(base, model, { optimizer });
    const m = JSON.parse(fs.readFileSync(`${base}.json`, "utf8"));
    const header = lib.train.decodeSafetensors(fs.readFileSync(path.join(dir, m.binary)));
    const names = header.tensors.map((t) => t.name);
    const layer = (i) =>
      ["in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight", "dt_proj.bias", "A_log", "D", "out_proj.weight"]
        .map((k) => `backbone.layers.${i}.mixer.${k}`)
        .concat(`backbone.layers.${i}.norm.weight`);
    const params = names.filter((n) => !n.startsWith("optim."));
    assert.deepEqual(
      [...params].sort(),
      ["encoder.kernel", "encoder.bias", ...layer(0), ...layer(1), "backbone.norm_f.weight", "decoder.kernel", "decoder.bias"].sort(),
    );
    assert.deepEqual(names.filter((n) => n.startsWith("optim.")).sort(), params.flatMap((n) => [`optim.m.${n}`, `optim.v.${n}`]).sort());
    const shape = (n) => header.tensors.find((t) => t.name === n).shape;
    const mixer = /** @type {import("../dist").nn.MambaResidualBlock} */ (model.blocks[0]).mixer;
    assert.deepEqual(shape("backbone.layers.0.mixer.conv1d.weight"), [mixer.dInner, 1, 3]);
    assert.deepEqual(shape("optim.m.backbone.layers.0.mixer.conv1d.weight"), [mixer.dInner, 1, 3]);
    assert.deepEqual(shape("backbone.layers.0.mixer.in_proj.weight"), [2 * mixer.dInner, 4]);
    assert.deepEqual(shape("backbone.layers.1.mixer.A_log"), [mixer.dInner, 3]);
    assert.equal(header.metadata.format, "pt");

    const before = tf.memory().numTensors;
    const saved = await lib.train.loadModelCheckpoint(base);
    for (const [n, v] of Object.entries(model.parameters())) {
      assert.deepEqual(saved.model.parameters()[n].shape, v.shape, n);
      assert.deepEqual(bits(await saved.model.parameters()[n].data()), bits(await v.data()), n);
    }
    const state = optimizer.getState();
    assert.equal(saved.optimizerState.step, state.step);
    assert.deepEqual(Object.keys(saved.optimizerState.tensors).sort(), Object.keys(state.tensors).sort());
    for (const [k, t] of Object.entries(state.tensors)) {
      assert.deepEqual(bits(await saved.optimizerState.tensors[k].data()), bits(await t.data()), k);
    }
    tf.dispose([...Object.values(state.tensors), ...Object.values(saved.optimizerState.tensors)]);
    saved.model.dispose();
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
    optimizer.dispose();
  });

  it("names and shapes that do not fit the model are refused, naming them", async () => {
    const { model } = trainedMamba(mambaOpts);
    const base = path.join(dir, "mamba-bad");
    await lib.train.saveModelCheckpoint(base, model);
    const good = await lib.train.loadCheckpoint(base);
    const tensors = { ...good.tensors };
    tensors["backbone.layers.0.mixer.conv1d.weight"] = tf.zeros([8, 3]);
    await lib.train.saveCheckpoint(base, { config: good.config, tensors, meta: good.meta });
    const before = tf.memory().numTensors;
    await assert.rejects(
      lib.train.loadModelCheckpoint(base),
      /shape mismatch backbone\.layers\.0\.mixer\.conv1d\.weight: expected \[8, 1, 3\], got \[8, 3\]/,
    );
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([...Object.values(good.tensors), tensors["backbone.layers.0.mixer.conv1d.weight"]]);
    model.dispose();
  });

  describe("version 1 files", () => {
    const V1 = path.join(__dirname, "fixtures", "checkpoint-v1", "mamba-tiny");

    it("a version 1 Mamba checkpoint loads with its optimizer state, and saves again as version 2", async () => {
      const manifest = JSON.parse(fs.readFileSync(`${V1}.json`, "utf8"));
      assert.equal(manifest.version, 1);
      const bin = fs.readFileSync(path.join(path.dirname(V1), manifest.binary));
      // The values as the old layout stores them: raw float32 words at the listed offsets.
      const raw = (name) => {
        const e = manifest.tensors.find((t) => t.name === name);
        return Array.from({ length: e.length / 4 }, (_, i) => bin.readUInt32LE(e.offset + 4 * i));
      };
      const saved = await lib.train.loadModelCheckpoint(V1);
      assert.equal(saved.config.model.layerKind, "mamba");
      assert.equal(saved.meta.epoch, 1);
      for (const [n, v] of Object.entries(saved.model.parameters())) assert.deepEqual(bits(await v.data()), raw(`param.${n}`), n);
      assert.equal(saved.optimizerState.step, 1);
      for (const [k, t] of Object.entries(saved.optimizerState.tensors)) assert.deepEqual(bits(await t.data()), raw(`optim.${k}`), k);

      const again = path.join(dir, "converted");
      const optimizer = new lib.train.AdamW(saved.model.parameters(), lib.train.s4ParamGroups(), { lr: 1e-2 });
      optimizer.setState(saved.optimizerState);
      await lib.train.saveModelCheckpoint(again, saved.model, { optimizer, meta: saved.meta });
      const c = await lib.train.loadModelCheckpoint(again);
      assert.equal(JSON.parse(fs.readFileSync(`${again}.json`, "utf8")).version, 2);
      for (const [n, v] of Object.entries(saved.model.parameters())) {
        assert.deepEqual(bits(await c.model.parameters()[n].data()), bits(await v.data()), n);
      }
      const x = tf.randomNormal([1, 8, 1], 0, 1, "float32", 2);
      const [y1, y2] = [saved.model.forward(x), c.model.forward(x)];
      assert.deepEqual(Array.from(await y2.data()), Array.from(await y1.data()));
      tf.dispose([x, y1, y2, ...Object.values(saved.optimizerState.tensors), ...Object.values(c.optimizerState.tensors)]);
      [saved.model, c.model].forEach((m) => m.dispose());
      optimizer.dispose();
    });
  });

  describe("read from Python", function () {
    before(function () {
      const probe = spawnSync(PYTHON, ["-c", "import json, struct, hashlib"], { encoding: "utf8" });
      if (probe.status !== 0) {
        skipSuite(this, {
          kind: "Python checkpoint readers",
          why: `${PYTHON} is not available`,
          enable: "install python3 or set PYTHON",
          requireVar: "S4_REQUIRE_PYTHON",
        });
      }
    });

    it("an independent standard-library reader sees every tensor bit for bit", async () => {
      const { model, optimizer } = trainedMamba(mambaOpts);
      const base = path.join(dir, "for-python");
      await lib.train.saveModelCheckpoint(base, model, { optimizer, meta: { epoch: 4 } });
      const r = spawnSync(PYTHON, [READER, base], { encoding: "utf8", maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, r.stderr);
      const read = JSON.parse(r.stdout);
      assert.equal(read.meta.epoch, 4);
      const expected = {};
      for (const [n, v] of Object.entries(model.parameters())) {
        const s = lib.train.stateDictName("mamba", n, v.shape);
        expected[s.name] = { shape: s.shape, bits: bits(await v.data()) };
      }
      const state = optimizer.getState();
      for (const [k, t] of Object.entries(state.tensors)) {
        const [slot, ...rest] = k.split(".");
        const s = lib.train.stateDictName("mamba", rest.join("."), t.shape);
        expected[`optim.${slot}.${s.name}`] = { shape: s.shape, bits: bits(await t.data()) };
      }
      tf.dispose(Object.values(state.tensors));
      assert.deepEqual(Object.keys(read.tensors).sort(), Object.keys(expected).sort());
      for (const [name, e] of Object.entries(expected)) {
        assert.equal(read.tensors[name].dtype, "F32", name);
        assert.deepEqual(read.tensors[name].shape, e.shape, name);
        assert.deepEqual(read.tensors[name].bits, e.bits, name);
      }
      model.dispose();
      optimizer.dispose();
    });

    it("PyTorch modules of the reference shapes take a block's tensors with load_state_dict(strict=True)", async function () {
      const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
      if (probe.status !== 0) {
        skipSuite(this, {
          kind: "PyTorch checkpoint loading",
          why: `${PYTHON} has no torch`,
          enable: "install python3-torch (Debian) or torch",
          requireVar: "S4_REQUIRE_TORCH",
        });
      }
      const opts = { ...mambaOpts, dModel: 6, n: 4, l: 7 };
      const model = new lib.nn.StackedModel(opts);
      const base = path.join(dir, "for-torch");
      await lib.train.saveModelCheckpoint(base, model);
      const shape = [2, 7, 6];
      const x = Array.from({ length: 2 * 7 * 6 }, (_, i) => Math.sin(0.7 * i + 0.3));
      const input = path.join(dir, "x.json");
      fs.writeFileSync(input, JSON.stringify({ x, shape }));
      for (const layer of [0, 1]) {
        const r = spawnSync(PYTHON, [TORCH_LOADER, base, String(layer), input], { encoding: "utf8", maxBuffer: 1 << 26 });
        assert.equal(r.status, 0, r.stderr);
        const got = JSON.parse(r.stdout);
        const mixer = /** @type {import("../dist").nn.MambaResidualBlock} */ (model.blocks[layer]).mixer;
        const xt = tf.tensor(x, shape);
        const [, weight] = Object.entries(model.parameters()).find(
          ([n, v]) => lib.train.stateDictName("mamba", n, v.shape).name === `backbone.layers.${layer}.mixer.in_proj.weight`,
        );
        const inProj = tf.matMul(tf.reshape(xt, [-1, 6]), weight, false, true); // (b·l, 2·d_inner)
        const y = mixer.forward(xt);
        assertClose(Float64Array.from(got.in_proj), await inProj.data(), 1e-5, 1e-5, `layer ${layer} in_proj`);
        assertClose(Float64Array.from(got.mixer), await y.data(), 1e-4, 1e-4, `layer ${layer} block output`);
        tf.dispose([xt, inProj, y]);
      }
      model.dispose();
    });
  });
});
