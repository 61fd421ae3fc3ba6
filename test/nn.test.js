// Sequence-model modules: shapes, CNN = RNN for the SSM layers and for the whole sequence model,
// gradients to every parameter, leaks, parameter bookkeeping and argument errors.
const { forEachBackend, assertClose, randn, rng, tf, lib, assert } = require("./helpers");
const { matMul2d } = require("../dist/nn/linear");

const maxAbs = (a) => Math.max(...Array.from(a, Math.abs));

/** Runs a layer in RNN mode over u (b, l, h) → (b, l, h) as a flat array. */
async function runRecurrent(layer, u) {
  await layer.setupRecurrence();
  const [b, l] = u.shape;
  let state = layer.initState(b);
  const ys = [];
  const cols = tf.unstack(u, 1); // l × (b, h)
  for (let t = 0; t < l; t++) {
    const r = layer.step(state, cols[t]);
    lib.nn.disposeState(state);
    state = r.state;
    ys.push(r.y);
  }
  lib.nn.disposeState(state);
  const y = tf.stack(ys, 1);
  const out = y.dataSync();
  tf.dispose([...ys, ...cols, y]);
  return out;
}

function tinyModel(overrides = {}) {
  return new lib.nn.StackedModel({
    task: "sequence",
    layerKind: "s4",
    dModel: 6,
    nLayers: 2,
    n: 4,
    l: 16,
    numClasses: 256,
    embedding: true,
    seed: 3,
    ...overrides,
  });
}

forEachBackend("nn: SSM layers", () => {
  /** @typedef {{ h: number, n: number, l: number, seed: number }} LayerSizes */
  /** @type {[kind: string, make: (o: LayerSizes) => import("../dist").nn.SequenceLayer][]} */
  const layers = [
    ["S4Layer", (o) => new lib.nn.S4Layer(o)],
    ["S4Layer (conjugate pairs)", (o) => new lib.nn.S4Layer({ ...o, conjugatePairs: true })],
    ["S4DLayer", (o) => new lib.nn.S4DLayer(o)],
    ["SSMLayer", (o) => new lib.nn.SSMLayer(o)],
  ];
  for (const [kind, make] of layers) {
    for (const [l, n, h] of [
      [16, 4, 3],
      [784, 4, 2],
    ]) {
      if (kind === "SSMLayer" && l > 16) continue; // dense Krylov kernel: kept to short sequences
      it(`${kind}: CNN mode (b, l, h) and RNN mode agree, l=${l} N=${n} h=${h} (atol 1e-4·max|y|, rtol 1e-3)`, async () => {
        const layer = make({ h, n, l, seed: 7 });
        const u = tf.tensor3d(randn(2 * l * h, 11), [2, l, h]);
        const yc = tf.tidy(() => layer.forward(u));
        assert.deepEqual(yc.shape, [2, l, h]);
        const cnn = yc.dataSync();
        const rnn = await runRecurrent(layer, u);
        assertClose(rnn, cnn, 1e-4 * maxAbs(cnn), 1e-3, `${kind} RNN vs CNN`);
        tf.dispose([u, yc]);
        layer.dispose();
      });
    }
  }

  it("S4Layer parameters carry the SSM leaf names and the HiPPO init", () => {
    const layer = new lib.nn.S4Layer({ h: 3, n: 4, l: 8, seed: 1 });
    const p = layer.parameters();
    assert.deepEqual(Object.keys(p).sort(), ["B_im", "B_re", "C_im", "C_re", "D", "Lambda_im", "Lambda_re", "P_im", "P_re", "log_step"]);
    const hippo = lib.makeDPLRHiPPO(4);
    assertClose(p.Lambda_im.dataSync().slice(4, 8), hippo.Lambda.im, 1e-5, 1e-5, "Lambda_im row 1");
    const ls = p.log_step.dataSync();
    assert.ok(
      ls.every((x) => x >= Math.log(1e-3) && x <= Math.log(1e-1)),
      "log_step in [log dtMin, log dtMax]",
    );
    layer.dispose();
  });
});

forEachBackend("nn: blocks and StackedModel", () => {
  it("shapes of LayerNorm, Dense, Embedding, SequenceBlock", () => {
    tf.tidy(() => {
      const x = tf.tensor3d(randn(2 * 8 * 4, 1), [2, 8, 4]);
      const ln = new lib.nn.LayerNorm(4);
      const y = ln.forward(x);
      assert.deepEqual(y.shape, [2, 8, 4]);
      assertClose(tf.mean(y, -1).dataSync(), new Float32Array(16), 1e-5, 0, "normalized mean");
      assert.deepEqual(new lib.nn.Dense(4, 5, 1).forward(x).shape, [2, 8, 5]);
      assert.deepEqual(new lib.nn.Embedding(256, 4, 1).forward(tf.tensor2d([[0, 255, 3]], [1, 3], "int32")).shape, [1, 3, 4]);
      const blk = new lib.nn.SequenceBlock({ layer: new lib.nn.S4Layer({ h: 4, n: 4, l: 8 }), h: 4, dropout: 0.1 });
      assert.deepEqual(blk.forward(x, { training: true }).shape, [2, 8, 4]);
      assert.deepEqual(
        Object.keys(blk.parameters()).filter((k) => !k.startsWith("layer.")),
        ["norm.scale", "norm.bias", "out.kernel", "out.bias"],
      );
      for (const m of [ln, blk]) m.dispose();
    });
  });

  for (const layerKind of /** @type {const} */ (["s4", "s4d", "ssm"])) {
    for (const task of /** @type {const} */ (["classification", "sequence"])) {
      it(`StackedModel ${layerKind}/${task}: logits shape; gradients reach every parameter; no leaks over 3 steps`, () => {
        const embedding = task === "sequence";
        const m = new lib.nn.StackedModel({
          task,
          layerKind,
          dModel: 4,
          nLayers: 2,
          n: 4,
          l: 16,
          numClasses: 10,
          embedding,
          dropout: 0.1,
          seed: 5,
        });
        const r = rng(2);
        const x = embedding
          ? tf.tensor2d(
              Array.from({ length: 32 }, () => Math.floor(r() * 256)),
              [2, 16],
              "int32",
            )
          : tf.tensor2d(randn(32, 2), [2, 16]);
        const logits = m.forward(x, { training: false });
        assert.deepEqual(logits.shape, task === "classification" ? [2, 10] : [2, 16, 10]);
        logits.dispose();
        const params = m.parameters();
        /** @returns {import("@tensorflow/tfjs").Scalar} */
        const loss = () => tf.tidy(() => tf.mean(tf.square(m.forward(x, { training: true }))));
        const before = tf.memory().numTensors;
        for (let s = 0; s < 3; s++) {
          const { value, grads } = tf.variableGrads(loss, Object.values(params));
          if (s === 0) {
            for (const [name, v] of Object.entries(params)) {
              const g = grads[v.name];
              assert.ok(g, `${name} has a gradient`);
              const d = g.dataSync();
              assert.ok(d.every(Number.isFinite), `${name}: gradient finite`);
              assert.ok(
                d.some((z) => z !== 0),
                `${name}: gradient not all zero`,
              );
            }
          }
          tf.dispose([value, ...Object.values(grads)]);
          assert.equal(tf.memory().numTensors, before, `step ${s}: tensors leaked`);
        }
        const leaves = new Set(Object.keys(params).map((k) => k.split(".").pop()));
        const want = {
          s4: ["Lambda_re", "Lambda_im", "P_re", "P_im", "B_re", "B_im", "log_step"],
          s4d: ["Lambda_re", "Lambda_im", "B_re", "B_im", "log_step"],
          ssm: ["A", "B", "log_step"],
        }[layerKind];
        for (const w of want) assert.ok(leaves.has(w), `parameter leaf ${w} present`);
        assert.ok("blocks.0.layer.log_step" in params && "blocks.1.norm.scale" in params && "decoder.kernel" in params);
        assert.equal(
          m.countParams(),
          Object.values(params).reduce((a, v) => a + v.size, 0),
        );
        assert.match(m.summary(), new RegExp(`total\\s+${m.countParams()}`));
        x.dispose();
        m.dispose();
      });
    }
  }

  /** @type {[layerKind: import("../dist").nn.LayerKind, embedding: boolean, l: number, extra?: { conjugatePairs: boolean }][]} */
  const recurrentCases = [
    ["s4", true, 16],
    ["s4", false, 32],
    ["s4", true, 16, { conjugatePairs: true }],
    ["s4d", true, 16],
    ["ssm", false, 16],
  ];
  for (const [layerKind, embedding, l, extra] of recurrentCases) {
    const variant = extra ? ", conjugate pairs" : "";
    it(`sequence StackedModel ${layerKind}${variant} (embedding ${embedding}, l=${l}): RNN-mode next-pixel logits = CNN-mode logits (atol 1e-4·max|logit|, rtol 1e-3)`, async () => {
      const m = tinyModel({ layerKind, embedding, l, dModel: 8, n: 8, ...extra });
      const r = rng(4);
      const px = Array.from({ length: 2 * l }, () => Math.floor(r() * 256));
      const x = embedding
        ? tf.tensor2d(px, [2, l], "int32")
        : tf.tensor2d(
            px.map((p) => p / 255),
            [2, l],
          );
      const cnnT = m.forward(x);
      const cnn = cnnT.dataSync();
      await m.setupRecurrence();
      const before = tf.memory().numTensors;
      const rnnT = m.recurrentLogits(x);
      assert.deepEqual(rnnT.shape, [2, l, 256]);
      assertClose(rnnT.dataSync(), cnn, 1e-4 * maxAbs(cnn), 1e-3, "logits");
      rnnT.dispose();
      assert.equal(tf.memory().numTensors, before, "recurrentLogits leaked");
      tf.dispose([x, cnnT]);
      m.dispose();
    });
  }
});

describe("nn: argument errors", () => {
  it("names the argument, the value and what was expected", async () => {
    assert.throws(() => new lib.nn.S4Layer({ h: 0, n: 4, l: 8 }), /S4Layer: h must be an integer ≥ 1, got 0/);
    assert.throws(
      () => tinyModel({ layerKind: "mamba", conjugatePairs: true }),
      /StackedModel: conjugatePairs applies to layerKind "s4" only, got conjugatePairs true with layerKind "mamba"/,
    );
    assert.throws(
      () => new lib.nn.S4Layer({ h: 2, n: 5, l: 8, conjugatePairs: true }),
      /S4Layer: n must be even with conjugatePairs \(n\/2 modes and their conjugates\), got 5/,
    );
    assert.throws(
      // @ts-expect-error -- deliberately wrong: conjugatePairs is not a boolean
      () => new lib.nn.S4Layer({ h: 2, n: 4, l: 8, conjugatePairs: "yes" }),
      /S4Layer: conjugatePairs must be a boolean, got yes/,
    );
    assert.throws(
      () => new lib.nn.S4Layer({ h: 2, n: 4, l: 8, dtMin: 0.1, dtMax: 0.01 }),
      /S4Layer: dtMax must be a finite number ≥ dtMin = 0.1, got 0.01/,
    );
    // @ts-expect-error -- deliberately wrong: an unknown init
    assert.throws(() => new lib.nn.S4DLayer({ h: 2, n: 4, l: 8, init: "foo" }), /S4DLayer: init must be "lin" or "inv", got "foo"/);
    assert.throws(() => tinyModel({ task: "regression" }), /StackedModel: task must be "classification" or "sequence", got "regression"/);
    assert.throws(() => tinyModel({ layerKind: "lstm" }), /StackedModel: layerKind must be one of "s4", "s4d", "ssm", "mamba", got "lstm"/);
    assert.throws(() => tinyModel({ dropout: 1.5 }), /dropout must be a number in \[0, 1\), got 1.5/);
    const layer = new lib.nn.S4Layer({ h: 2, n: 4, l: 8 });
    assert.throws(() => layer.forward(tf.zeros([1, 7, 2])), /S4Layer.forward: u must have shape \(b, l = 8, h = 2\), got \(1, 7, 2\)/);
    assert.throws(() => layer.step(layer.initState(1), tf.zeros([1, 2])), /call \(and await\) setupRecurrence\(\)/);
    const m = tinyModel({ task: "classification" });
    assert.throws(() => m.forward(tf.zeros([2, 5], "int32")), /StackedModel.forward: x must have shape \(b, l = 16\), got \(2, 5\)/);
    assert.throws(() => m.stepModel(m.initState(1), tf.zeros([1])), /RNN mode needs task "sequence"/);
    layer.dispose();
    m.dispose();
  });
});

describe("matMul2d (the dense layers' product)", () => {
  it("equals tf.matMul forward and in both gradients", async () => {
    const x = tf.tensor2d(randn(7 * 5, 1), [7, 5]),
      w = tf.tensor2d(randn(5 * 3, 2), [5, 3]),
      r = tf.tensor2d(randn(7 * 3, 3), [7, 3]);
    const loss = (f) => (a, b) => tf.sum(tf.mul(f(a, b), r));
    const [gx, gw] = tf.grads(loss(matMul2d))([x, w]);
    const [rx, rw] = tf.grads(loss((a, b) => tf.matMul(a, b)))([x, w]);
    const y = matMul2d(x, w),
      yr = tf.matMul(x, w);
    assertClose(await y.data(), await yr.data(), 1e-6, 1e-6, "y");
    assertClose(await gx.data(), await rx.data(), 1e-6, 1e-6, "dx");
    assertClose(await gw.data(), await rw.data(), 1e-6, 1e-6, "dw");
    tf.dispose([x, w, r, gx, gw, rx, rw, y, yr]);
  });
});
