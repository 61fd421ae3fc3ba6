// The Mamba block and the Mamba StackedModel: golden values, a float64 loop reference (forward,
// recurrent step, finite-difference gradients), RNN mode == CNN mode for the whole model,
// checkpoints, training, sampling, parameter groups, leaks and argument errors.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { FIXTURES, forEachBackend, assertClose, randn, tf, lib, assert } = require("./helpers");
const { parseFixtureFile, runFixtureCase } = require("../dist/fixtures");

const maxAbs = (a) => Math.max(...Array.from(a, Math.abs));

// ---- A float64 reference: one position at a time, explicit loops -------------------------------

/** The block's parameters as float64 arrays, read back from its variables. */
async function readParams(block) {
  const out = {};
  for (const [k, v] of Object.entries(block.parameters())) out[k] = Float64Array.from(await v.data());
  return out;
}

const silu = (v) => v / (1 + Math.exp(-v));
const softplus = (v) => (v > 20 ? v : Math.log1p(Math.exp(v)));

/**
 * Advances one sequence (batch element) by one position. P: parameters (float64, PyTorch layout),
 * S: {conv: (d_inner·d_conv), ssm: (d_inner·n)} updated in place, x: (d_model) → out (d_model).
 */
function refStep(P, dims, S, x) {
  const { dModel: dm, dInner: di, n, dConv: k, dtRank: R } = dims;
  const xz = new Float64Array(2 * di);
  for (let j = 0; j < 2 * di; j++) {
    let s = P.in_proj_bias ? P.in_proj_bias[j] : 0;
    for (let i = 0; i < dm; i++) s += P.in_proj_weight[j * dm + i] * x[i];
    xz[j] = s;
  }
  const u = new Float64Array(di);
  for (let c = 0; c < di; c++) {
    for (let j = 0; j < k - 1; j++) S.conv[c * k + j] = S.conv[c * k + j + 1];
    S.conv[c * k + k - 1] = xz[c];
    let s = P.conv_bias ? P.conv_bias[c] : 0;
    for (let j = 0; j < k; j++) s += P.conv_weight[c * k + j] * S.conv[c * k + j];
    u[c] = silu(s);
  }
  const xd = new Float64Array(R + 2 * n);
  for (let r = 0; r < R + 2 * n; r++) {
    let s = 0;
    for (let c = 0; c < di; c++) s += P.x_proj_weight[r * di + c] * u[c];
    xd[r] = s;
  }
  const y = new Float64Array(di);
  for (let c = 0; c < di; c++) {
    let pre = P.dt_proj_bias[c];
    for (let r = 0; r < R; r++) pre += P.dt_proj_weight[c * R + r] * xd[r];
    const dt = softplus(pre);
    let yc = P.D[c] * u[c];
    for (let s = 0; s < n; s++) {
      const a = -Math.exp(P.A_log[c * n + s]);
      const h = Math.exp(dt * a) * S.ssm[c * n + s] + dt * xd[R + s] * u[c];
      S.ssm[c * n + s] = h;
      yc += h * xd[R + n + s];
    }
    y[c] = yc * silu(xz[di + c]);
  }
  const out = new Float64Array(dm);
  for (let m = 0; m < dm; m++) {
    let s = P.out_proj_bias ? P.out_proj_bias[m] : 0;
    for (let c = 0; c < di; c++) s += P.out_proj_weight[m * di + c] * y[c];
    out[m] = s;
  }
  return out;
}

/** The whole sequence from the zero state: x (b·l·d_model) → {out (b·l·d_model), conv, ssm}. */
function refForward(P, dims, x, b, l) {
  const { dModel: dm, dInner: di, n, dConv: k } = dims;
  const out = new Float64Array(b * l * dm),
    conv = new Float64Array(b * di * k),
    ssm = new Float64Array(b * di * n);
  for (let i = 0; i < b; i++) {
    const S = { conv: new Float64Array(di * k), ssm: new Float64Array(di * n) };
    for (let t = 0; t < l; t++) out.set(refStep(P, dims, S, x.subarray((i * l + t) * dm, (i * l + t + 1) * dm)), (i * l + t) * dm);
    conv.set(S.conv, i * di * k);
    ssm.set(S.ssm, i * di * n);
  }
  return { out, conv, ssm };
}

const dimsOf = (blk) => ({ dModel: blk.dModel, dInner: blk.dInner, n: blk.n, dConv: blk.dConv, dtRank: blk.dtRank });

/** Moves every parameter off its initial value a little, so that no term is trivially zero or one. */
function perturb(block, seed) {
  let s = seed;
  for (const v of Object.values(block.parameters())) v.assign(tf.tidy(() => tf.add(v, tf.tensor(randn(v.size, s++), v.shape).mul(0.1))));
}

/** @type {[what: string, opts: import("../dist").nn.MambaBlockOptions, b: number, l: number][]} */
const SMALL = [
  ["defaults (bias off, conv bias on, d_conv 4)", { dModel: 6, n: 3, seed: 1 }, 2, 9],
  [
    "in/out biases, no conv bias, d_conv 3, expand 1.5, dt_rank 2",
    { dModel: 4, n: 2, expand: 1.5, dConv: 3, dtRank: 2, bias: true, convBias: false, seed: 2 },
    3,
    5,
  ],
  ["l < d_conv", { dModel: 4, n: 4, seed: 3 }, 2, 2],
];

forEachBackend("MambaBlock", () => {
  it("matches the golden values of mamba.json (forward with state, and one step; atol 1e-4, rtol 1e-3)", async function () {
    const file = path.join(FIXTURES, "mamba.json");
    if (!fs.existsSync(file)) this.skip();
    const { cases } = parseFixtureFile(fs.readFileSync(file, "utf8"), "mamba.json");
    assert.deepEqual(cases.map((c) => c.fn).sort(), ["mamba_block", "mamba_step"]);
    for (const c of cases) {
      const before = tf.memory().numTensors;
      const r = await runFixtureCase(c);
      assert.equal(tf.memory().numTensors, before, `${c.name} leaked`);
      assert.ok(r.pass, `${c.name}: ${r.error ?? `max|err| ${r.maxAbsErr}, ${r.worstRatio}× tolerance`}`);
      assert.ok(r.maxAbsErr < 1e-5, `${c.name}: max|err| ${r.maxAbsErr} (float32 should reach 1e-5)`);
    }
  });

  for (const [what, opts, b, l] of SMALL) {
    it(`forward (with final state) and step both match the float64 loop reference: ${what} (atol 1e-5·max|y|, rtol 1e-4)`, async () => {
      const blk = new lib.nn.MambaBlock(opts);
      perturb(blk, 10);
      const P = await readParams(blk),
        dims = dimsOf(blk);
      const xs = randn(b * l * blk.dModel, 20);
      const ref = refForward(P, dims, Float64Array.from(xs), b, l);
      const x = tf.tensor3d(xs, [b, l, blk.dModel]);
      const r = blk.forward(x, { returnState: true });
      assert.deepEqual(r.y.shape, [b, l, blk.dModel]);
      assert.deepEqual(r.state.conv.shape, [b, blk.dInner, blk.dConv]);
      assert.deepEqual(r.state.ssm.shape, [b, blk.dInner, blk.n]);
      const tol = (a) => 1e-5 * Math.max(1, maxAbs(a));
      assertClose(await r.y.data(), ref.out, tol(ref.out), 1e-4, "forward y");
      assertClose(await r.state.conv.data(), ref.conv, tol(ref.conv), 1e-4, "forward conv state");
      assertClose(await r.state.ssm.data(), ref.ssm, tol(ref.ssm), 1e-4, "forward ssm state");
      // The same sequence one position at a time.
      let state = blk.initState(b);
      const ys = [];
      for (const xt of tf.unstack(x, 1)) {
        const s = blk.step(state, xt);
        lib.nn.disposeState(state);
        xt.dispose();
        state = s.state;
        ys.push(s.y);
      }
      const yStep = tf.stack(ys, 1);
      assertClose(await yStep.data(), ref.out, tol(ref.out), 1e-4, "step y");
      assertClose(await state.ssm.data(), ref.ssm, tol(ref.ssm), 1e-4, "step ssm state");
      tf.dispose([x, r.y, yStep, ...ys]);
      lib.nn.disposeState([r.state, state]);
      blk.dispose();
    });
  }

  it("a prompt read in parallel (forward with returnState) and continued by step == forward of the whole (atol 1e-5·max|y|, rtol 1e-4)", async () => {
    const blk = new lib.nn.MambaBlock({ dModel: 8, n: 4, seed: 5 });
    perturb(blk, 30);
    const b = 2,
      l = 12;
    const x = tf.tensor3d(randn(b * l * 8, 31), [b, l, 8]);
    const whole = blk.forward(x);
    const wholeData = await whole.data();
    for (const split of [2, 7]) {
      // 2 < d_conv: the conv state is zero-padded
      const prompt = tf.slice(x, [0, 0, 0], [-1, split, -1]);
      const r = blk.forward(prompt, { returnState: true });
      let state = r.state;
      const ys = [r.y];
      for (let t = split; t < l; t++) {
        const xt = tf.tidy(() => tf.reshape(tf.slice(x, [0, t, 0], [-1, 1, -1]), [b, 8]));
        const s = blk.step(state, xt);
        lib.nn.disposeState(state);
        state = s.state;
        ys.push(tf.expandDims(s.y, 1));
        tf.dispose([xt, s.y]);
      }
      const y = tf.concat(ys, 1);
      assertClose(await y.data(), wholeData, 1e-5 * maxAbs(wholeData), 1e-4, `prompt of ${split}, then steps`);
      tf.dispose([prompt, y, ...ys]);
      lib.nn.disposeState(state);
    }
    tf.dispose([x, whole]);
    blk.dispose();
  });

  it("gradients of every parameter match central differences of the float64 reference (atol 1e-4·max|g|, rtol 1e-3)", async () => {
    const blk = new lib.nn.MambaBlock({ dModel: 3, n: 2, expand: 2, dConv: 3, bias: true, seed: 7 });
    perturb(blk, 40);
    // Δ near 1 rather than the initial 0.001..0.1, and larger B, C and Δ inputs, so that the selective
    // path (Δ, B, C from x_proj) carries a gradient as large as the rest.
    blk.dt_proj_bias.assign(tf.tidy(() => tf.tensor1d(randn(blk.dInner, 43))));
    blk.x_proj_weight.assign(tf.tidy(() => tf.mul(blk.x_proj_weight, 4)));
    const b = 2,
      l = 5,
      dm = 3;
    const xs = Float64Array.from(randn(b * l * dm, 41), (v) => 4 * v);
    const G = Float64Array.from(randn(b * l * dm, 42)); // loss = Σ out ⊙ G
    const P = await readParams(blk),
      dims = dimsOf(blk);
    const lossRef = () => refForward(P, dims, xs, b, l).out.reduce((a, v, i) => a + v * G[i], 0);
    const params = blk.parameters();
    const x = tf.tensor3d(Float32Array.from(xs), [b, l, dm]),
      g = tf.tensor3d(Float32Array.from(G), [b, l, dm]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(blk.forward(x), g)), Object.values(params));
    const h = 1e-6;
    for (const [name, v] of Object.entries(params)) {
      const got = await grads[v.name].data();
      const fd = new Float64Array(v.size);
      for (let i = 0; i < v.size; i++) {
        const keep = P[name][i];
        P[name][i] = keep + h;
        const up = lossRef();
        P[name][i] = keep - h;
        const down = lossRef();
        P[name][i] = keep;
        fd[i] = (up - down) / (2 * h);
      }
      assert.ok(maxAbs(fd) > 1e-3, `${name}: the reference gradient should not vanish (max ${maxAbs(fd)})`);
      assertClose(got, fd, 1e-4 * maxAbs(fd), 1e-3, `d loss / d ${name}`);
    }
    tf.dispose([x, g, ...Object.values(grads)]);
    blk.dispose();
  });

  it("keeps the tensor count flat over forward, step and gradient steps", async () => {
    const blk = new lib.nn.MambaBlock({ dModel: 4, n: 2, seed: 1 });
    const x = tf.tensor3d(randn(2 * 6 * 4, 1), [2, 6, 4]);
    const xt = tf.tensor2d(randn(8, 2), [2, 4]);
    const state = blk.initState(2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      tf.dispose(blk.forward(x));
      const r = blk.forward(x, { returnState: true });
      tf.dispose(r.y);
      lib.nn.disposeState(r.state);
      const s = blk.step(state, xt);
      tf.dispose(s.y);
      lib.nn.disposeState(s.state);
      const { value, grads } = tf.variableGrads(() => tf.sum(blk.forward(x)), Object.values(blk.parameters()));
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.equal(tf.memory().numTensors, before);
    lib.nn.disposeState(state);
    tf.dispose([x, xt]);
    blk.dispose();
  });
});

forEachBackend("StackedModel with Mamba blocks", () => {
  /** @type {import("../dist").nn.StackedModelOptions} */
  const SEQ = { task: "sequence", layerKind: "mamba", dModel: 8, nLayers: 2, n: 4, l: 16, numClasses: 256, embedding: true, seed: 3 };
  /** @type {import("../dist").nn.StackedModelOptions} */
  const CLS = { task: "classification", layerKind: "mamba", dModel: 6, nLayers: 2, n: 4, l: 12, numClasses: 10, seed: 4 };

  it("names its parameters like the reference (mixer, norm, norm_f) and counts them", () => {
    const m = new lib.nn.StackedModel(CLS);
    const names = Object.keys(m.parameters());
    for (const k of [
      "blocks.0.mixer.in_proj_weight",
      "blocks.0.mixer.conv_weight",
      "blocks.0.mixer.conv_bias",
      "blocks.0.mixer.x_proj_weight",
      "blocks.0.mixer.dt_proj_weight",
      "blocks.0.mixer.dt_proj_bias",
      "blocks.0.mixer.A_log",
      "blocks.0.mixer.D",
      "blocks.0.mixer.out_proj_weight",
      "blocks.1.norm.weight",
      "norm_f.weight",
    ]) {
      assert.ok(names.includes(k), `missing ${k} in ${names.join(", ")}`);
    }
    // d 6, d_inner 12, n 4, dt_rank 1, d_conv 4, per block: in 144, conv 48 + 12, x_proj 108, dt 12 + 12, A_log 48, D 12, out 72, norm 6
    const perBlock = 144 + 60 + 108 + 24 + 48 + 12 + 72 + 6;
    assert.equal(m.countParams(), 2 * 6 + 2 * perBlock + 6 + 6 * 10 + 10);
    m.dispose();
  });

  it("RNN mode (recurrentLogits, one Mamba step per position) == CNN mode logits, sequence task (atol 1e-4·max, rtol 1e-3)", async () => {
    const m = new lib.nn.StackedModel(SEQ);
    for (const v of Object.values(m.parameters())) if (v.name.includes("A_log")) v.assign(tf.tidy(() => tf.add(v, 0.3)));
    const x = tf.tensor2d(
      Int32Array.from({ length: 3 * 16 }, (_, i) => (i * 37) % 256),
      [3, 16],
      "int32",
    );
    const cnn = m.forward(x);
    assert.deepEqual(cnn.shape, [3, 16, 256]);
    await m.setupRecurrence();
    const before = tf.memory().numTensors;
    const rnn = m.recurrentLogits(x);
    assert.equal(tf.memory().numTensors, before + 1, "recurrentLogits should leave only its result");
    const c = await cnn.data();
    assertClose(await rnn.data(), c, 1e-4 * maxAbs(c), 1e-3, "RNN vs CNN logits");
    tf.dispose([x, cnn, rnn]);
    m.dispose();
  });

  it("sends a nonzero, finite gradient to every parameter (classification, real pixels)", async () => {
    const m = new lib.nn.StackedModel({ ...CLS, dropout: 0.1 });
    const x = tf.tensor2d(randn(3 * 12, 5), [3, 12]);
    const y = tf.oneHot(tf.tensor1d([1, 4, 7], "int32"), 10);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(y, m.forward(x, { training: true })),
      Object.values(m.parameters()),
    );
    for (const [name, v] of Object.entries(m.parameters())) {
      const gr = await grads[v.name].data();
      assert.ok(gr.every(Number.isFinite), `${name}: finite gradient`);
      assert.ok(maxAbs(gr) > 0, `${name}: nonzero gradient`);
    }
    tf.dispose([x, y, value, ...Object.values(grads)]);
    m.dispose();
  });

  it("rejects bad options and inputs clearly", () => {
    assert.throws(
      // @ts-expect-error -- deliberately wrong: an unknown layer kind
      () => new lib.nn.StackedModel({ ...CLS, layerKind: "lstm" }),
      /layerKind must be one of "s4", "s4d", "ssm", "mamba", got "lstm"/,
    );
    assert.throws(
      () => new lib.nn.StackedModel({ ...CLS, expand: 1.3 }),
      /expand must be a number > 0 with expand · dModel an integer, got expand 1.3 for dModel 6/,
    );
    assert.throws(
      () => new lib.nn.StackedModel({ ...CLS, layerKind: "s4d", dConv: 3 }),
      /StackedModel: dConv applies to layerKind "mamba" only, got dConv 3 with layerKind "s4d"/,
    );
    const one = new lib.nn.StackedModel({ ...CLS, nLayers: 1 });
    assert.deepEqual([one.opts.expand, one.opts.dConv], [2, 4]);
    one.dispose();
    const m = new lib.nn.StackedModel(SEQ);
    const states = m.initState(2);
    assert.throws(() => m.stepModel(states.slice(1), tf.zeros([2], "int32")), /one state per block \(2\), got 1/);
    const s4 = new lib.nn.S4DLayer({ h: 8, n: 4, l: 16 });
    assert.throws(() => m.blocks[0].step(s4.initState(2), tf.zeros([2, 8])), /MambaResidualBlock.step: state must be a Mamba state/);
    lib.nn.disposeState(states);
    s4.dispose();
    m.dispose();
  });
});

describe("MambaBlock: argument errors", () => {
  before(async () => lib.useBackend("wasm", { quiet: true }));

  it("names the argument and the expected shape", () => {
    assert.throws(() => new lib.nn.MambaBlock({ dModel: 0 }), /MambaBlock: dModel must be an integer ≥ 1, got 0/);
    assert.throws(() => new lib.nn.MambaBlock({ dModel: 4, dtMin: 0.2, dtMax: 0.1 }), /dtMin and dtMax must satisfy/);
    const blk = new lib.nn.MambaBlock({ dModel: 4, n: 2 });
    tf.tidy(() => {
      assert.throws(() => blk.forward(tf.zeros([2, 5, 3])), /MambaBlock.forward: x must have shape \(b, l, d_model = 4\), got \(2, 5, 3\)/);
      assert.throws(() => blk.forward(tf.zeros([5, 4])), /x must have shape \(b, l, d_model = 4\), got \(5, 4\)/);
      assert.throws(
        () => blk.step(blk.initState(2), tf.zeros([2, 5])),
        /MambaBlock.step: x must have shape \(b, d_model = 4\), got \(2, 5\)/,
      );
      assert.throws(
        () => blk.step(blk.initState(3), tf.zeros([2, 4])),
        /state.conv must have shape \(b, d_inner, d_conv\) = \(2, 8, 4\), got \(3, 8, 4\)/,
      );
      assert.throws(
        () => blk.step({ conv: tf.zeros([2, 8, 4]), ssm: tf.zeros([2, 8, 3]) }, tf.zeros([2, 4])),
        /state.ssm must have shape \(b, d_inner, n\) = \(2, 8, 2\), got \(2, 8, 3\)/,
      );
      // @ts-expect-error -- deliberately wrong: a bare tensor instead of a {conv, ssm} state
      assert.throws(() => blk.step(tf.zeros([2, 8, 4]), tf.zeros([2, 4])), /state must be \{conv, ssm\} tensors/);
    });
    blk.dispose();
  });

  it("loadTorchParams checks names and shapes before assigning anything", async function () {
    const file = path.join(FIXTURES, "mamba.json");
    if (!fs.existsSync(file)) this.skip();
    const { cases } = parseFixtureFile(fs.readFileSync(file, "utf8"), "mamba.json");
    const p = Object.fromEntries(Object.entries(cases[0].args.params).map(([k, v]) => [k, tf.tensor(v)]));
    // d_model 8 in the weights: a block built for d_model 6 is refused, naming d_model.
    const narrow = new lib.nn.MambaBlock({ dModel: 6, dInner: 16, n: 4, dtRank: 1 });
    const before = await narrow.parameters().A_log.data();
    assert.throws(() => narrow.loadTorchParams(p), /in_proj_w must have shape \(2·d_inner, d_model\) = \(32, 6\), got \(32, 8\)/);
    assert.deepEqual(await narrow.parameters().A_log.data(), before, "nothing is assigned after a failed check");
    narrow.dispose();
    const blk = lib.nn.MambaBlock.fromTorchParams(p);
    assert.deepEqual([blk.dModel, blk.dInner, blk.n, blk.dConv, blk.dtRank], [8, 16, 4, 4, 1]);
    const { A_log, ...noA } = p;
    assert.throws(() => blk.loadTorchParams(noA), /params lacks A_log, expected shape \(d_inner, n\) = \(16, 4\)/);
    assert.throws(
      () => blk.loadTorchParams({ ...p, "in_proj.weight": p.in_proj_w }),
      /gives in_proj_weight twice, as in_proj\.weight and in_proj_w/,
    );
    assert.throws(() => blk.loadTorchParams({ ...p, lm_head: p.D }), /unknown parameter name\(s\) lm_head/);
    assert.throws(
      () => blk.loadTorchParams({ ...p, out_proj_b: tf.zeros([8]) }),
      /params has out_proj_b, but this block has no out_proj_bias/,
    );
    // PyTorch's own names and Conv1d's (d_inner, 1, d_conv) weight load as well.
    const torchNames = {
      "in_proj.weight": p.in_proj_w,
      "conv1d.weight": p.conv_w.reshape([16, 1, 4]),
      "conv1d.bias": p.conv_b,
      "x_proj.weight": p.x_proj_w,
      "dt_proj.weight": p.dt_proj_w,
      "dt_proj.bias": p.dt_proj_b,
      A_log,
      D: p.D,
      "out_proj.weight": p.out_proj_w,
    };
    blk.loadTorchParams(torchNames);
    assert.deepEqual(await blk.parameters().conv_weight.data(), await p.conv_w.data());
    const x = tf.tensor3d(/** @type {number[][][]} */ (cases[0].args.x).flat(2), [2, 13, 8]);
    const y = blk.forward(x);
    assertClose(await y.data(), cases[0].expected[0].flat(2), 1e-4, 1e-3, "forward after loading by PyTorch names");
    tf.dispose([x, y, ...Object.values(p), ...Object.values(torchNames)]);
    blk.dispose();
  });

  it("initializes like the reference: A_log = log(1..n), D = 1, softplus(dt bias) in [dt_min, dt_max], dt_proj ±dt_rank^-½", async () => {
    const blk = new lib.nn.MambaBlock({ dModel: 32, n: 5, seed: 9 });
    const p = blk.parameters();
    assert.equal(blk.dtRank, 2);
    assert.equal(blk.dInner, 64);
    const aLog = await p.A_log.data();
    for (let c = 0; c < 64; c++) for (let j = 0; j < 5; j++) assert.ok(Math.abs(aLog[c * 5 + j] - Math.log(j + 1)) < 1e-6);
    assert.ok((await p.D.data()).every((v) => v === 1));
    const dt = Array.from(await p.dt_proj_bias.data(), softplus);
    assert.ok(
      dt.every((v) => v >= 0.001 * (1 - 1e-4) && v <= 0.1 * (1 + 1e-4)),
      `dt in [0.001, 0.1]: ${Math.min(...dt)}..${Math.max(...dt)}`,
    );
    assert.ok(Math.max(...dt) / Math.min(...dt) > 10, "dt spread over the log range");
    assert.ok(maxAbs(await p.dt_proj_weight.data()) <= 2 ** -0.5);
    blk.dispose();
  });
});

describe("Mamba: training, checkpoints, sampling [wasm]", function () {
  before(async () => lib.useBackend("wasm", { quiet: true }));
  const tmp = (tag) => fs.mkdtempSync(path.join(os.tmpdir(), `mamba-${tag}-`));

  it("parameter groups: A_log, D and the Δ bias are not weight-decayed and train at the full rate", () => {
    const m = new lib.nn.StackedModel({ task: "classification", layerKind: "mamba", dModel: 4, nLayers: 1, n: 2, l: 8, numClasses: 10 });
    const opt = new lib.train.AdamW(m.parameters(), lib.train.paramGroupsFor("mamba", 0.1), { weightDecay: 0.01 });
    const d = opt.describe();
    for (const k of ["A_log", "D", "dt_proj_bias"])
      assert.deepEqual(d[`blocks.0.mixer.${k}`], { group: "mamba-no-decay", lrScale: 1, weightDecay: 0 });
    for (const k of ["blocks.0.mixer.in_proj_weight", "blocks.0.mixer.dt_proj_weight", "norm_f.weight"])
      assert.equal(d[k].weightDecay, 0.01, k);
    opt.dispose();
    m.dispose();
  });

  it("lowers the loss of a tiny Mamba classifier in a few steps, with a flat tensor count", async () => {
    const losses = [],
      counts = [];
    const s = await lib.train.fit(
      {
        task: "mnist-classification",
        layer: "mamba",
        epochs: 6,
        bsz: 16,
        dModel: 4,
        nLayers: 1,
        n: 2,
        lr: 2e-2,
        trainLimit: 32,
        valLimit: 16,
        testLimit: 16,
        seed: 3,
        out: tmp("learn"),
      },
      {
        onStep: (i) => {
          losses.push(i.loss);
          counts.push(tf.memory().numTensors);
        },
      },
    );
    assert.equal(s.layer, "mamba");
    assert.equal(s.config.expand, 2);
    const first = (losses[0] + losses[1]) / 2,
      last = (losses[10] + losses[11]) / 2;
    assert.ok(last < first - 0.05, `loss should fall: ${losses.map((l) => l.toFixed(3)).join(" ")}`);
    assert.ok(
      counts.slice(1).every((c) => c === counts[1]),
      `numTensors should stay flat, got ${counts.join(" ")}`,
    );
    await assert.rejects(
      lib.train.fit({ task: "mnist-classification", layer: "s4d", expand: 2, epochs: 1, bsz: 4, dModel: 4, nLayers: 1, n: 2, lr: 1e-2 }),
      /train: expand must be unset unless layer is mamba/,
    );
  });

  it("sequence task: checkpoint round trip, exact resume (with dropout), and npm run sample in RNN mode", async function () {
    /** @type {Omit<import("../dist").train.TrainOptions, "epochs">} */
    const TINY = {
      task: "mnist",
      layer: "mamba",
      bsz: 8,
      dModel: 4,
      nLayers: 1,
      n: 2,
      lr: 1e-2,
      dropout: 0.1,
      trainLimit: 16,
      valLimit: 8,
      testLimit: 8,
      seed: 5,
      dConv: 3,
    };
    const straight = tmp("straight"),
      resumed = tmp("resumed");
    await lib.train.fit({ ...TINY, epochs: 2, out: straight });
    // Stopped by a hook once epoch 1 is saved, then resumed for the second.
    const stop = {
      onEpoch: (r) => {
        if (r.epoch === 1) throw new Error("stop here");
      },
    };
    await assert.rejects(lib.train.fit({ ...TINY, epochs: 2, out: resumed }, stop), /stop here/);
    assert.equal((await lib.train.fit({ ...TINY, epochs: 2, out: resumed, resume: true })).resumed_from_epoch, 1);
    await assert.rejects(lib.train.fit({ ...TINY, dConv: 4, epochs: 3, out: resumed, resume: true }), /dConv = 3.*asks for 4/);
    const a = await lib.train.loadModelCheckpoint(path.join(straight, "last"));
    const b = await lib.train.loadModelCheckpoint(path.join(resumed, "last"));
    assert.equal(a.model.opts.layerKind, "mamba");
    assert.equal(a.model.opts.dConv, 3);
    for (const [n, v] of Object.entries(a.model.parameters()))
      assertClose(await b.model.parameters()[n].data(), await v.data(), 1e-6, 0, `resume: ${n}`);
    // Save and load again: the same logits, in CNN and in RNN mode.
    const again = path.join(resumed, "again");
    await lib.train.saveModelCheckpoint(again, a.model);
    const c = await lib.train.loadModelCheckpoint(again);
    assert.deepEqual(c.config.model, a.model.opts);
    const x = tf.tensor2d(
      Int32Array.from({ length: 2 * 784 }, (_, i) => (i * 31) % 256),
      [2, 784],
      "int32",
    );
    const [ya, yc] = [a.model.forward(x), c.model.forward(x)];
    assert.deepEqual(await yc.data(), await ya.data());
    const before = tf.memory().numTensors;
    const done = await lib.sample.completeDigits(c.model, new Uint8Array(2 * 784), 780, { seed: 1 });
    assert.equal(done.length, 2 * 784);
    assert.equal(tf.memory().numTensors, before, "completeDigits leaked");
    tf.dispose([x, ya, yc]);
    for (const s of [a, b, c]) {
      s.model.dispose();
      if (s.optimizerState) tf.dispose(Object.values(s.optimizerState.tensors));
    }
    const png = path.join(resumed, "s.png");
    const r = spawnSync(
      process.execPath,
      [
        path.join(__dirname, "..", "dist", "cli", "sample.js"),
        "--checkpoint",
        path.join(resumed, "last"),
        "--count",
        "1",
        "--prefix",
        "760",
        "--backend",
        "wasm",
        "--out",
        png,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /wrote .*s\.png/);
    assert.ok(fs.statSync(png).size > 0);
  });

  it("the train command: --quick --layer mamba takes the Mamba preset, --expand and --d-conv apply to mamba only", function () {
    const CLI = path.join(__dirname, "..", "dist", "cli", "train.js");
    const out = tmp("cli");
    let r = spawnSync(
      process.execPath,
      [
        CLI,
        "--quick",
        "--task",
        "mnist",
        "--layer",
        "mamba",
        "--expand",
        "1.5",
        "--d-conv",
        "2",
        "--bsz",
        "8",
        "--train-limit",
        "8",
        "--val-limit",
        "8",
        "--test-limit",
        "8",
        "--backend",
        "wasm",
        "--out",
        out,
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /model: mamba dModel 16 nLayers 1 n 4 expand 1.5 dConv 2, \d+ params/);
    assert.match(r.stdout, /epoch 1 done/);
    r = spawnSync(process.execPath, [CLI, "--layer", "s4", "--d-conv", "3"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /flag --d-conv applies to --layer mamba only, got --layer s4/);
  });
});
