// Two failures that used to pass silently: Embedding ids outside [0, vocab) became zero rows, and
// the SSM layers' RNN matrices outlived a change of the parameters (an optimizer step, an assign).
const { forEachBackend, assertClose, rng, tf, lib, assert } = require("./helpers");
const { checkPositiveInt } = require("../dist/checks");

const maxAbs = (a) => Math.max(...Array.from(a, Math.abs));

function seqModel(layerKind, extra = {}) {
  return new lib.nn.StackedModel({
    task: "sequence",
    layerKind,
    dModel: 6,
    nLayers: 2,
    n: 4,
    l: 12,
    numClasses: 256,
    embedding: true,
    seed: 5,
    ...extra,
  });
}

function tokens(b, l, seed) {
  const r = rng(seed);
  return tf.tensor2d(
    Array.from({ length: b * l }, () => Math.floor(r() * 256)),
    [b, l],
    "int32",
  );
}

/** RNN-mode logits (without a new setupRecurrence) against CNN-mode logits of the current parameters. */
function assertRnnMatchesCnn(m, x, what) {
  const cnnT = m.forward(x);
  const cnn = cnnT.dataSync();
  const rnnT = m.recurrentLogits(x);
  assertClose(rnnT.dataSync(), cnn, 1e-4 * maxAbs(cnn), 1e-3, what);
  tf.dispose([cnnT, rnnT]);
}

forEachBackend("nn: Embedding ids are checked", () => {
  it("ids ≥ vocab, negative or fractional ids are errors naming the argument and the range; no leaks", () => {
    const emb = new lib.nn.Embedding(8, 3, 1);
    const before = tf.memory().numTensors;
    /** @type {[ids: number[], dtype: "int32" | "float32", bad: string][]} */
    const refused = [
      [[0, 8], "int32", "8"],
      [[2, -1], "int32", "-1"],
      [[1, 2.5], "float32", "2.5"],
      [[3, NaN], "float32", "NaN"],
    ];
    for (const [ids, dtype, bad] of refused) {
      const t = tf.tensor1d(ids, dtype);
      assert.throws(
        () => emb.forward(t),
        new RegExp(`Embedding\\.forward: tokens must be integers in \\[0, 8\\), got ${bad} at flat index 1`),
      );
      t.dispose();
    }
    assert.equal(tf.memory().numTensors, before, "a refused call leaked");
    const ok = tf.tensor2d(
      [
        [0, 7],
        [3.0, 1],
      ],
      [2, 2],
      "float32",
    );
    const y = emb.forward(ok);
    assert.deepEqual(y.shape, [2, 2, 3]);
    tf.dispose([ok, y]);
    emb.dispose();
  });

  it("a token model refuses pixel values ≥ 256 in CNN and RNN mode", async () => {
    const m = seqModel("s4d");
    const x = tf.fill([2, 12], 256, "int32");
    assert.throws(() => m.forward(x), /Embedding\.forward: tokens must be integers in \[0, 256\), got 256/);
    await m.setupRecurrence();
    const states = m.initState(2);
    const input = tf.tensor1d([3, 300], "int32");
    assert.throws(() => m.stepModel(states, input), /Embedding\.forward: tokens must be integers in \[0, 256\), got 300 at flat index 1/);
    lib.nn.disposeState(states);
    tf.dispose([x, input]);
    m.dispose();
  });
});

/**
 * The layer of an "s4", "s4d" or "ssm" block: it caches RNN matrices and has log_step.
 * @typedef {import("../dist").nn.S4Layer | import("../dist").nn.S4DLayer | import("../dist").nn.SSMLayer} SSMKindLayer
 */

forEachBackend("nn: RNN mode follows parameter changes", () => {
  for (const layerKind of ["s4", "s4d", "ssm"]) {
    it(`${layerKind}: after an AdamW step and after variable.assign, RNN-mode logits = CNN-mode logits of the new parameters`, async () => {
      const m = seqModel(layerKind);
      const x = tokens(2, 12, 7);
      await m.setupRecurrence();
      assertRnnMatchesCnn(m, x, "before any change");
      const layer = /** @type {SSMKindLayer} */ (m.blocks[0].layer);
      assert.equal(layer.recurrenceIsStale(), false);

      // One training step: AdamW writes every parameter through assign (its fused update).
      const params = m.parameters();
      const optimizer = new lib.train.AdamW(params, lib.train.s4ParamGroups(), { lr: 5e-2 });
      const labels = tf.oneHot(tf.reshape(x, [-1]), 256);
      const { grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(labels, tf.reshape(m.forward(x, { training: true }), [-1, 256])),
        Object.values(params),
      );
      optimizer.step(Object.fromEntries(Object.entries(params).map(([n, v]) => [n, grads[v.name]])), 5e-2);
      tf.dispose([...Object.values(grads), labels]);
      assert.equal(layer.recurrenceIsStale(), true, "the step must mark the RNN matrices stale");
      const before = tf.memory().numTensors;
      assertRnnMatchesCnn(m, x, "after an AdamW step");
      assert.equal(layer.recurrenceIsStale(), false);
      assert.equal(tf.memory().numTensors, before, "rebuilding the RNN matrices leaked");

      // A direct assign to one SSM parameter of the second block (what a checkpoint load does).
      const logStep = /** @type {SSMKindLayer} */ (m.blocks[1].layer).log_step;
      logStep.assign(tf.tidy(() => tf.add(logStep, 0.5)));
      assertRnnMatchesCnn(m, x, "after log_step.assign");
      optimizer.dispose();
      x.dispose();
      m.dispose();
    });
  }
});

describe("checks: checkPositiveInt takes both call styles", () => {
  it("(name, value) and (fn, name, value)", () => {
    assert.equal(checkPositiveInt("kConv: L", 3), 3);
    assert.throws(() => checkPositiveInt("kConv: L", 0), /^Error: kConv: L must be a positive integer, got 0$/);
    assert.equal(checkPositiveInt("lineFigure", "width", 400), 400);
    assert.throws(() => checkPositiveInt("lineFigure", "width", 2.5), /^Error: lineFigure: width must be a positive integer, got 2\.5$/);
    assert.throws(() => checkPositiveInt("lineFigure", "width", "7"), /lineFigure: width must be a positive integer, got 7/);
  });
});
