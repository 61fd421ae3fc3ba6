// A model checkpoint rebuilds the same model (parameters and outputs) and the optimizer state.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { tf, lib, assert } = require("./helpers");

describe("model checkpoints", () => {
  let dir;
  before(async () => {
    await lib.useBackend("wasm", { quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-ckpt-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const opts = { task: "classification", layerKind: "s4d", dModel: 4, nLayers: 1, n: 4, l: 16, numClasses: 10, seed: 3 };

  it("round trips parameters, outputs, optimizer state and meta", async () => {
    const model = new lib.StackedModel(opts);
    const optimizer = new lib.AdamW(model.parameters(), lib.s4ParamGroups(), { lr: 1e-2 });
    const x = tf.randomNormal([2, 16, 1], 0, 1, "float32", 1);
    const { grads } = tf.variableGrads(() => tf.sum(model.forward(x, { training: false })), Object.values(model.parameters()));
    optimizer.step(Object.fromEntries(Object.entries(model.parameters()).map(([n, v]) => [n, grads[v.name]])), 1e-2);
    tf.dispose(Object.values(grads));
    const base = path.join(dir, "m");
    await lib.saveModelCheckpoint(base, model, { optimizer, meta: { epoch: 2 }, training: { lr: 1e-2 } });
    const saved = await lib.loadModelCheckpoint(base);
    assert.deepEqual(saved.config.model, model.opts);
    assert.equal(saved.meta.epoch, 2);
    assert.equal(saved.optimizerState.step, 1);
    for (const [n, v] of Object.entries(model.parameters())) {
      assert.deepEqual(Array.from(await saved.model.parameters()[n].data()), Array.from(await v.data()), n);
    }
    const y1 = await model.forward(x, { training: false }).data();
    const y2 = await saved.model.forward(x, { training: false }).data();
    assert.deepEqual(Array.from(y2), Array.from(y1));
    const fresh = new lib.AdamW(saved.model.parameters(), lib.s4ParamGroups(), { lr: 1e-2 });
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
    await lib.saveCheckpoint(base, { config: { something: "else" }, tensors: { a: tf.zeros([2]) } });
    await assert.rejects(lib.loadModelCheckpoint(base), /does not hold a stacked model \(config\.kind is undefined, expected "stacked-model"\)/);
  });
});
