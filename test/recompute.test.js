// Activation checkpointing (blocks recomputed in the backward pass): the same loss and gradients
// as the plain backward pass, the same dropout masks, a lower memory peak, no leaked tensors, and
// the same trained parameters through the training loop.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { forEachBackend, assertNoLeak, assert, tf, lib } = require("./helpers");

/** Loss and gradients of one training step, every dropout stream started at 0. */
function step(model, x, y, numClasses, recompute) {
  for (const b of model.blocks) if (b.drop) b.drop.position = 0;
  return tf.variableGrads(() => {
    const logits = model.forward(x, { training: true, recompute });
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(y, [-1]), numClasses), tf.reshape(logits, [-1, numClasses]));
  });
}

function maxRelDiff(a, b) {
  let scale = 0,
    diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]));
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  return diff / (scale || 1);
}

function makeModel(layerKind, task, extra = {}) {
  const sequence = task === "sequence";
  return new lib.nn.StackedModel({
    layerKind,
    task,
    dModel: 6,
    nLayers: 3,
    n: 4,
    l: 12,
    numClasses: sequence ? 16 : 5,
    embedding: sequence,
    dropout: 0.25,
    seed: 7,
    ...extra,
  });
}

function batch(task, b = 3) {
  return task === "sequence"
    ? { x: tf.randomUniformInt([b, 12], 0, 16, 1), y: tf.randomUniformInt([b, 12], 0, 16, 2), k: 16 }
    : { x: tf.randomNormal([b, 12], 0, 1, "float32", 3), y: tf.randomUniformInt([b], 0, 5, 4), k: 5 };
}

forEachBackend("nn: recompute (activation checkpointing)", () => {
  const CASES = [
    ["s4", "classification"],
    ["s4d", "sequence"],
    ["ssm", "classification"],
    ["mamba", "sequence"],
    ["mamba", "classification"],
  ];
  for (const [layerKind, task] of CASES) {
    it(`${layerKind}/${task}, dropout 0.25: the loss and every parameter's gradient equal the plain backward pass (rtol 1e-6); dropout streams end where they would`, async () => {
      const model = makeModel(layerKind, task);
      const { x, y, k } = batch(task);
      const plain = step(model, x, y, k, false);
      const plainPositions = model.blocks.map((b) => b.drop?.position);
      const again = step(model, x, y, k, true);
      assert.deepEqual(
        model.blocks.map((b) => b.drop?.position),
        plainPositions,
      );
      assert.ok(
        plainPositions.every((p) => p > 0),
        "dropout should have drawn masks",
      );
      assert.equal((await again.value.data())[0], (await plain.value.data())[0]);
      assert.deepEqual(Object.keys(again.grads).sort(), Object.keys(plain.grads).sort());
      for (const name of Object.keys(plain.grads)) {
        const d = maxRelDiff(await plain.grads[name].data(), await again.grads[name].data());
        assert.ok(d <= 1e-6, `d ${name}: relative difference ${d}`);
      }
      tf.dispose([plain.value, again.value, ...Object.values(plain.grads), ...Object.values(again.grads), x, y]);
      model.dispose();
    });
  }

  it("recomputeInBackward: gradients of x and of the variables equal tf.grads of the plain function; the rewind hook runs once per backward pass", async () => {
    const W = tf.variable(tf.randomNormal([4, 3], 0, 1, "float32", 5));
    const bias = tf.variable(tf.randomNormal([3], 0, 1, "float32", 6));
    const frozen = tf.variable(tf.ones([3]), false); // not trainable: left out of the gradients
    const f = (x) => tf.mul(tf.tanh(tf.add(tf.matMul(x, W), bias)), frozen);
    const x = tf.randomNormal([2, 4], 0, 1, "float32", 7);
    let rewinds = 0;
    /** @returns {() => import("@tensorflow/tfjs").Scalar} */
    const loss = (g) => () => tf.sum(tf.square(g(x)));
    const want = tf.variableGrads(loss(f));
    const got = tf.variableGrads(loss((xx) => lib.nn.recomputeInBackward(f, xx, [W, bias, frozen], () => rewinds++)));
    assert.equal(rewinds, 1);
    assert.deepEqual(Object.keys(got.grads).sort(), Object.keys(want.grads).sort());
    for (const k of Object.keys(want.grads)) assert.ok(maxRelDiff(await want.grads[k].data(), await got.grads[k].data()) <= 1e-6, k);
    const dxWant = tf.grad((xx) => tf.sum(tf.square(f(xx))))(x);
    const dxGot = tf.grad((xx) => tf.sum(tf.square(lib.nn.recomputeInBackward(f, xx, [W, bias]))))(x);
    assert.ok(maxRelDiff(await dxWant.data(), await dxGot.data()) <= 1e-6, "dx");
    tf.dispose([W, bias, frozen, x, want.value, got.value, ...Object.values(want.grads), ...Object.values(got.grads), dxWant, dxGot]);
  });

  it("keeps less alive: the peak of tensor memory of an 8-block step is under half the plain step's (tf.profile peakBytes)", async () => {
    const model = new lib.nn.StackedModel({
      layerKind: "s4d",
      task: "classification",
      dModel: 16,
      nLayers: 8,
      n: 8,
      l: 256,
      numClasses: 10,
      seed: 1,
    });
    const x = tf.randomNormal([8, 256], 0, 1, "float32", 1);
    const y = tf.randomUniformInt([8], 0, 10, 2);
    const peaks = {};
    for (const recompute of [false, true]) {
      const p = await tf.profile(() => {
        const r = step(model, x, y, 10, recompute);
        tf.dispose([r.value, ...Object.values(r.grads)]);
      });
      peaks[recompute] = p.peakBytes;
    }
    assert.ok(peaks[true] < 0.5 * peaks[false], `peak with recompute ${peaks[true]} B, plain ${peaks[false]} B`);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("leaks no tensors over three steps", async () => {
    const model = makeModel("mamba", "sequence");
    const { x, y, k } = batch("sequence");
    await assertNoLeak(() => {
      for (let i = 0; i < 3; i++) {
        const r = step(model, x, y, k, true);
        tf.dispose([r.value, ...Object.values(r.grads)]);
      }
    }, "three recomputed steps");
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe("train loop with recompute [wasm]", function () {
  before(async () => lib.useBackend("wasm", { quiet: true }));

  it("trains to the same parameters with and without recompute (dropout 0.1, two epochs)", async function () {
    /** @type {import("../dist").train.TrainOptions} */
    const base = {
      task: "mnist-classification",
      layer: "s4d",
      epochs: 2,
      bsz: 16,
      dModel: 4,
      nLayers: 2,
      n: 4,
      lr: 1e-2,
      trainLimit: 32,
      valLimit: 16,
      testLimit: 16,
      dropout: 0.1,
      seed: 5,
    };
    const params = {};
    for (const recompute of [false, true]) {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), `s4-recompute-${recompute}-`));
      const s = await lib.train.fit({ ...base, recompute, out });
      assert.equal(s.config.recompute, recompute);
      const saved = await lib.train.loadModelCheckpoint(path.join(out, "last"));
      params[recompute] = Object.fromEntries(Object.entries(saved.model.parameters()).map(([k, v]) => [k, v.dataSync().slice()]));
      saved.model.dispose();
      if (saved.optimizerState) tf.dispose(Object.values(saved.optimizerState.tensors));
    }
    for (const k of Object.keys(params[false])) {
      const d = maxRelDiff(params[false][k], params[true][k]);
      assert.ok(d <= 1e-5, `parameter ${k} differs by ${d} (relative)`);
    }
  });

  it("refuses a recompute that is not a boolean, naming it", async () => {
    await assert.rejects(
      // @ts-expect-error -- deliberately wrong: recompute is not a boolean
      lib.train.fit({ task: "mnist", layer: "s4d", epochs: 1, bsz: 4, dModel: 4, nLayers: 1, n: 4, lr: 1e-2, recompute: "yes" }),
      /train: recompute must be true or false, got "yes"/,
    );
  });
});
