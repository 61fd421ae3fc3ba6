// The plain-tf-ops paths every op takes where no hand-written kernel is registered (tfjs-node and
// tfjs-node-gpu, or S4_KERNELS=reference): the switch itself; a real training run on them that
// matches the run on the kernels step by step; and the memory-bounded references (the selective
// scan in recomputed chunks, the Cauchy sums in recomputed chunks, the DFT convolution recomputed):
// the same values and gradients as the whole-graph references, the kernels and finite
// differences, a bounded memory peak, and no leaked tensors.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { forEachBackend, assertClose, assertNoLeak, assertDirectionalGradients, randn, rng, tf, lib, assert } = require("./helpers");

const ROOT = path.join(__dirname, "..");
const CHILD = path.join(__dirname, "reference-run.js");
const LAYERS = ["s4", "s4d", "mamba"];

/** Runs the training child with S4_KERNELS set to `mode` (undefined: unset); returns its record. */
function trainInChild(mode) {
  const env = { ...process.env };
  delete env.S4_KERNELS;
  if (mode !== undefined) env.S4_KERNELS = mode;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `s4-reference-${mode ?? "fast"}-`));
  const r = spawnSync(process.execPath, [CHILD, out, ...LAYERS], { cwd: ROOT, env, encoding: "utf8", timeout: 600000 });
  assert.equal(r.status, 0, `child (S4_KERNELS=${mode}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

describe("S4_KERNELS: one switch for the hand-written kernels", function () {
  const { kernelModeFrom } = lib.kernels;

  it('reads unset, empty, "fast" and "reference"; anything else is an error naming S4_KERNELS and its values', function () {
    assert.equal(kernelModeFrom({}), "fast");
    assert.equal(kernelModeFrom({ S4_KERNELS: "" }), "fast");
    assert.equal(kernelModeFrom({ S4_KERNELS: "fast" }), "fast");
    assert.equal(kernelModeFrom({ S4_KERNELS: "reference" }), "reference");
    for (const bad of ["Reference", "off", "1"]) {
      assert.throws(
        () => kernelModeFrom({ S4_KERNELS: bad }),
        new RegExp(`S4_KERNELS must be unset, "fast" \\(hand-written kernels\\) or "reference" \\(plain tf ops only\\), got "${bad}"`),
      );
    }
  });

  it("stops the library from loading with a bad value, saying what it accepts", function () {
    const r = spawnSync(process.execPath, ["-e", "require('./dist')"], {
      cwd: ROOT,
      env: { ...process.env, S4_KERNELS: "gpu" },
      encoding: "utf8",
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /S4_KERNELS must be unset, "fast" \(hand-written kernels\) or "reference" \(plain tf ops only\), got "gpu"/);
  });
});

describe("training on the reference paths [cpu]: S4_KERNELS=reference against the kernels, in child processes", function () {
  this.timeout(900000);
  let fast, reference;
  before(function () {
    fast = trainInChild(undefined);
    reference = trainInChild("reference");
  });

  it("S4_KERNELS=reference registers none of the hand-written kernels on any backend; unset registers them all", function () {
    assert.equal(reference.mode, "reference");
    assert.equal(fast.mode, "fast");
    for (const name of [
      "CauchyBilinear",
      "InverseRealDFT",
      "CausalConv",
      "SelectiveScan",
      "SelectiveScanGrad",
      "CausalDepthwiseConv1d",
      "SeededDropout",
    ]) {
      assert.ok(
        reference.names.includes(name) && fast.registered.includes(name),
        `${name} is a kernel of the library, registered in the fast run`,
      );
    }
    assert.deepEqual(reference.registered, [], "kernels registered with S4_KERNELS=reference");
    assert.deepEqual(fast.registered.sort(), fast.names.sort());
  });

  // The kernels work in float64 on the host, the references in float32, so the gradients differ in
  // their last bits; AdamW's first steps move each parameter by about ±lr whatever the gradient's
  // size, so the losses of four steps stay within float32 rounding (measured: the same values).
  for (const layer of LAYERS) {
    it(`${layer}: the same loss at every step as on the kernels (rtol 1e-4), a complete summary, no leaked tensors`, function () {
      const got = reference.runs[layer],
        want = fast.runs[layer];
      assert.equal(got.losses.length, 4);
      assert.equal(want.losses.length, 4);
      assertClose(got.losses, want.losses, 0, 1e-4, `${layer} losses (reference vs kernels)`);
      const s = got.summary;
      assert.equal(s.layer, layer);
      assert.equal(s.backend, "cpu");
      assert.equal(s.steps, 4);
      assert.equal(s.test_examples, 8);
      for (const k of ["val_loss", "val_accuracy", "test_loss", "test_accuracy"])
        assert.ok(Number.isFinite(s[k]), `summary ${k} = ${s[k]}`);
      assertClose([s.test_loss, s.val_loss], [want.summary.test_loss, want.summary.val_loss], 0, 1e-4, `${layer} evaluation losses`);
      assert.equal(got.tensorsAfter, got.tensorsBefore, `${layer}: tensors left after train`);
    });
  }
});

// ---- The selective scan in recomputed chunks --------------------------------------------------

const {
  makeInputs: scanInputs,
  ALL,
  NONE,
  label,
  optsOf,
  diffInputs: diffNames,
  lossFn: scanLoss,
  weights: lossWeights,
} = require("./selective-scan-cases");

forEachBackend("selectiveScanReference in recomputed chunks", () => {
  const { selectiveScanReference, selectiveScan } = lib.kernels;

  // chunk: Infinity is the whole-sequence graph differentiated by autodiff: the reference as it
  // was before chunking (the same ops on the same values).
  for (const v of [ALL, NONE]) {
    it(`chunks of 7, 1, 32 and 64 (one chunk) steps = the whole-sequence reference, values and gradients (b=2 d=3 n=4 l=50, ${label(v)}; y atol 1e-5 rtol 1e-4, grads atol 1e-4 rtol 1e-3)`, () => {
      const sizes = { b: 2, d: 3, n: 4, l: 50 };
      const x = scanInputs(sizes, 10);
      const { w, wl } = lossWeights(sizes, 20);
      const names = diffNames(v),
        xs = names.map((k) => x[k]);
      const whole = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v, { chunk: Infinity }));
      const gWhole = tf.grads(scanLoss(selectiveScanReference, x, v, names, w, wl, { chunk: Infinity }))(xs);
      for (const chunk of [7, 1, 32, 64]) {
        const got = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v, { chunk }));
        assertClose(got.y.dataSync(), whole.y.dataSync(), 1e-5, 1e-4, `y (chunk ${chunk})`);
        assertClose(got.lastState.dataSync(), whole.lastState.dataSync(), 1e-5, 1e-4, `lastState (chunk ${chunk})`);
        const g = tf.grads(scanLoss(selectiveScanReference, x, v, names, w, wl, { chunk }))(xs);
        names.forEach((k, i) => {
          assert.deepEqual(g[i].shape, x[k].shape, `d${k} shape`);
          assertClose(g[i].dataSync(), gWhole[i].dataSync(), 1e-4, 1e-3, `d${k} (chunk ${chunk})`);
        });
        tf.dispose([got.y, got.lastState, ...g]);
      }
      tf.dispose([whole.y, whole.lastState, ...gWhole, w, wl, ...Object.values(x)]);
    });
  }

  it("at l = 784 (25 chunks of the default 32) = the fused kernel and the whole-sequence reference, values and gradients (y atol 1e-5 rtol 1e-4, grads atol 1e-4 rtol 1e-3)", () => {
    const sizes = { b: 1, d: 2, n: 3, l: 784 };
    const x = scanInputs(sizes, 30);
    const { w, wl } = lossWeights(sizes, 40);
    const names = diffNames(ALL),
      xs = names.map((k) => x[k]);
    const chunked = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, ALL));
    const gChunked = tf.grads(scanLoss(selectiveScanReference, x, ALL, names, w, wl))(xs);
    /** @type {[what: string, scan: typeof selectiveScanReference, extra: object][]} */
    const against = [
      ["fused kernel", selectiveScan, {}],
      ["whole-sequence reference", selectiveScanReference, { chunk: Infinity }],
    ];
    for (const [what, scan, extra] of against) {
      const want = scan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, ALL, extra));
      assertClose(chunked.y.dataSync(), want.y.dataSync(), 1e-5, 1e-4, `y vs ${what}`);
      assertClose(chunked.lastState.dataSync(), want.lastState.dataSync(), 1e-5, 1e-4, `lastState vs ${what}`);
      const g = tf.grads(scanLoss(scan, x, ALL, names, w, wl, extra))(xs);
      names.forEach((k, i) => assertClose(gChunked[i].dataSync(), g[i].dataSync(), 1e-4, 1e-3, `d${k} vs ${what}`));
      tf.dispose([want.y, want.lastState, ...g]);
    }
    tf.dispose([chunked.y, chunked.lastState, ...gChunked, w, wl, ...Object.values(x)]);
  });

  // Central differences in float32: ε = 1e-2 keeps rounding (~1e-7·|loss|/ε) and truncation
  // (~ε²) errors well under the 2e-2 relative tolerance.
  for (const v of [ALL, NONE]) {
    it(`gradients in chunks of 3 = central finite differences along random directions (l=10, ${label(v)}; eps 1e-2, rtol 2e-2)`, () => {
      const sizes = { b: 2, d: 3, n: 3, l: 10 };
      const x = scanInputs(sizes, 50);
      const { w, wl } = lossWeights(sizes, 60);
      const names = diffNames(v),
        xs = names.map((k) => x[k]);
      const f = scanLoss(selectiveScanReference, x, v, names, w, wl, { chunk: 3 });
      assertDirectionalGradients(f, xs, names, { seed: 70 });
      tf.dispose([w, wl, ...Object.values(x)]);
    });
  }

  it("at l = 1 every input gets a gradient, zeros for A (h_0 does not depend on it), as from the fused kernel", () => {
    const sizes = { b: 1, d: 2, n: 3, l: 1 };
    const x = scanInputs(sizes, 85);
    const { w, wl } = lossWeights(sizes, 86);
    const names = diffNames(ALL),
      xs = names.map((k) => x[k]);
    const got = tf.grads(scanLoss(selectiveScanReference, x, ALL, names, w, wl))(xs);
    const want = tf.grads(scanLoss(selectiveScan, x, ALL, names, w, wl))(xs);
    names.forEach((k, i) => assertClose(got[i].dataSync(), want[i].dataSync(), 1e-5, 1e-4, `d${k}`));
    assert.ok(
      got[names.indexOf("A")].dataSync().every((v) => v === 0),
      "dA at l = 1",
    );
    tf.dispose([...got, ...want, w, wl, ...Object.values(x)]);
  });

  it("selectiveSSMParallel from a state h0: the second half of a sequence from the first half's last state = the whole sequence (atol 1e-5, rtol 1e-4)", () => {
    const sizes = { b: 2, d: 3, n: 4, l: 20 };
    const x = scanInputs(sizes, 80);
    tf.tidy(() => {
      const half = (t, i) => tf.split(t, 2, 2)[i];
      const whole = lib.mamba.selectiveSSMLoop(x.u, x.delta, x.A, x.B, x.C, x.D);
      const first = lib.mamba.selectiveSSMParallel(half(x.u, 0), half(x.delta, 0), x.A, half(x.B, 0), half(x.C, 0), x.D);
      const second = lib.mamba.selectiveSSMParallel(half(x.u, 1), half(x.delta, 1), x.A, half(x.B, 1), half(x.C, 1), x.D, {
        h0: first.lastState,
      });
      assertClose(tf.concat([first.y, second.y], 2).dataSync(), whole.y.dataSync(), 1e-5, 1e-4, "y");
      assertClose(second.lastState.dataSync(), whole.lastState.dataSync(), 1e-5, 1e-4, "lastState");
    });
    assert.throws(
      () => lib.mamba.selectiveSSMParallel(x.u, x.delta, x.A, x.B, x.C, x.D, { h0: tf.zeros([2, 3]) }),
      /selectiveSSMParallel: h0 must have shape \(b, d, n\) = \(2, 3, 4\), got \(2, 3\)/,
    );
    tf.dispose(Object.values(x));
  });

  it("leaks no tensors: forward, tf.grads, and tf.grads through a block recomputed in the backward pass (whose gradients it leaves unchanged)", () => {
    const sizes = { b: 2, d: 3, n: 4, l: 11 };
    const x = scanInputs(sizes, 90);
    const { w, wl } = lossWeights(sizes, 100);
    for (const v of [ALL, NONE]) {
      assertNoLeak(() => selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v, { chunk: 4 })), `forward (${label(v)})`);
      const names = diffNames(v);
      assertNoLeak(
        () => tf.grads(scanLoss(selectiveScanReference, x, v, names, w, wl, { chunk: 4 }))(names.map((k) => x[k])),
        `tf.grads (${label(v)})`,
      );
    }
    // The scan's own recomputation nested inside a recomputed block (training with --recompute).
    const Av = tf.variable(x.A);
    const block = (u) => selectiveScanReference(u, x.delta, Av, x.B, x.C, optsOf(x, ALL, { chunk: 4 })).y;
    /** @returns {() => import("@tensorflow/tfjs").Scalar} */
    const loss = (recompute) => () => tf.sum(tf.mul(recompute ? lib.nn.recomputeInBackward(block, x.u, [Av]) : block(x.u), w));
    const plain = tf.variableGrads(loss(false), [Av]);
    const before = tf.memory().numTensors;
    const nested = tf.variableGrads(loss(true), [Av]);
    assertClose(nested.grads[Av.name].dataSync(), plain.grads[Av.name].dataSync(), 1e-5, 1e-4, "dA through a recomputed block");
    assertClose(nested.value.dataSync(), plain.value.dataSync(), 1e-6, 1e-6, "loss");
    tf.dispose([nested.value, ...Object.values(nested.grads)]);
    assert.equal(tf.memory().numTensors, before, "tensors left by the nested recomputation");
    tf.dispose([plain.value, ...Object.values(plain.grads), Av, w, wl, ...Object.values(x)]);
  });

  it("rejects a bad chunk length, naming it", () => {
    const x = scanInputs({ b: 1, d: 2, n: 2, l: 5 }, 110);
    for (const chunk of [0, 2.5, -1]) {
      assert.throws(
        () => selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, { chunk }),
        new RegExp(`selectiveScanReference: chunk must be a positive integer, got ${chunk}`),
      );
      assert.throws(
        () => lib.mamba.selectiveSSMCheckpointed(x.u, x.delta, x.A, x.B, x.C, undefined, { chunk }),
        new RegExp(`selectiveSSMCheckpointed: chunk must be a positive integer, got ${chunk}`),
      );
    }
    tf.dispose(Object.values(x));
  });
});

describe("selectiveScanReference: memory of a training step at l = 784 [cpu]", function () {
  before(async () => lib.useBackend("cpu", { quiet: true }));

  /** Peak bytes above the start (tfjs's count) of one forward + gradient of every input. */
  async function peakOfGradients(x, chunk) {
    const names = diffNames(ALL),
      xs = names.map((k) => x[k]);
    const { b, d, n, l } = { b: x.u.shape[0], d: x.u.shape[1], n: x.A.shape[1], l: x.u.shape[2] };
    const { w, wl } = lossWeights({ b, d, n, l }, 130);
    const before = tf.memory().numBytes;
    const prof = await tf.profile(() =>
      tf.dispose(tf.grads(scanLoss(lib.kernels.selectiveScanReference, x, ALL, names, w, wl, { chunk }))(xs)),
    );
    tf.dispose([w, wl]);
    return prof.peakBytes - before;
  }

  // S = b·d·n·l·4 bytes, one (b, d, n, l) tensor. The whole-sequence scan runs ⌈log₂ 784⌉ = 10
  // doubling rounds and autodiff keeps every round's new products and states: at least 2 S per
  // round, 20 S in all (measured: about 210 S). In chunks of T = 16 steps, (b, d, n, T) tensors
  // exist for one chunk at a time, S/49 each, a few dozen of them: under 1 S; what remains is
  // sequence-sized, (b, d, l) or (b, n, l) = S/16 each with d = n = 16 (inputs, outputs, their
  // gradients and the copies tfjs saves, some 30 of them: about 2 S), and one (b, d, n) state per
  // chunk boundary, 49 · S/784. So the chunked peak stays under 6 S (measured: about 3 S), and
  // the whole-sequence one is more than 3× that.
  it("the whole-sequence scan holds at least 2·⌈log₂ l⌉ (b, d, n, l) tensors; the chunked one (T = 16) fewer than 6", async function () {
    const sizes = { b: 1, d: 16, n: 16, l: 784 };
    const S = sizes.b * sizes.d * sizes.n * sizes.l * 4;
    const x = scanInputs(sizes, 120);
    const whole = await peakOfGradients(x, Infinity);
    const chunked = await peakOfGradients(x, 16);
    const report = `whole ${(whole / S).toFixed(1)} S, chunked ${(chunked / S).toFixed(1)} S (S = ${(S / 2 ** 20).toFixed(2)} MiB)`;
    assert.ok(whole >= 2 * Math.ceil(Math.log2(sizes.l)) * S, `the whole-sequence scan should hold every doubling round: ${report}`);
    assert.ok(chunked < 6 * S, `the chunked scan should hold one chunk's states at a time: ${report}`);
    tf.dispose(Object.values(x));
  });
});

// ---- The Cauchy sums and the DFT convolution, recomputed ------------------------------------------

forEachBackend("cauchyBilinearReference in recomputed chunks of points", () => {
  /** A random DPLR-like problem: Re λ < 0, a positive step, points on the unit circle. */
  function cauchyInputs(H, N, M, L, seed) {
    const r = rng(seed);
    const t = (shape, f) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f), shape);
    const angles = Float32Array.from({ length: L }, (_, k) => (-2 * Math.PI * k) / L);
    return {
      lambda: { re: t([H, N], () => -0.1 - r()), im: t([H, N], () => 4 * r() - 2) },
      v: { re: t([H, M, N], () => r() - 0.5), im: t([H, M, N], () => r() - 0.5) },
      step: t([H], () => 0.01 + 0.1 * r()),
      z: { re: tf.tensor1d(angles.map(Math.cos)), im: tf.tensor1d(angles.map(Math.sin)) },
    };
  }
  const flat = (p) => [p.lambda.re, p.lambda.im, p.v.re, p.v.im, p.step, p.z.re, p.z.im];
  const call = (chunk, w) => (lr, li, vr, vi, s, zr, zi) => {
    const S = lib.kernels.cauchyBilinearReference({ re: lr, im: li }, { re: vr, im: vi }, s, { re: zr, im: zi }, chunk);
    return tf.add(tf.sum(tf.mul(S.re, w.re)), tf.sum(tf.mul(S.im, w.im)));
  };

  it("chunks of 128 and 7 points = all points at once, values and gradients of λ, v, step and z (H=3 N=5 M=4 L=300; atol 1e-5 rtol 1e-4)", () => {
    const p = cauchyInputs(3, 5, 4, 300, 1);
    const w = { re: tf.randomNormal([3, 4, 300], 0, 1, "float32", 2), im: tf.randomNormal([3, 4, 300], 0, 1, "float32", 3) };
    const whole = lib.kernels.cauchyBilinearReference(p.lambda, p.v, p.step, p.z, Infinity);
    const gWhole = tf.grads(call(Infinity, w))(flat(p));
    for (const chunk of [128, 7]) {
      const got = lib.kernels.cauchyBilinearReference(p.lambda, p.v, p.step, p.z, chunk);
      assertClose(got.re.dataSync(), whole.re.dataSync(), 1e-5, 1e-4, `re (chunk ${chunk})`);
      assertClose(got.im.dataSync(), whole.im.dataSync(), 1e-5, 1e-4, `im (chunk ${chunk})`);
      const g = tf.grads(call(chunk, w))(flat(p));
      g.forEach((t, i) => assertClose(t.dataSync(), gWhole[i].dataSync(), 1e-5, 1e-4, `gradient ${i} (chunk ${chunk})`));
      tf.dispose([got.re, got.im, ...g]);
      assertNoLeak(() => tf.grads(call(chunk, w))(flat(p)), `tf.grads (chunk ${chunk})`);
    }
    assert.throws(
      () => lib.kernels.cauchyBilinearReference(p.lambda, p.v, p.step, p.z, 0),
      /cauchyBilinearReference: chunk must be a positive integer or Infinity, got 0/,
    );
    tf.dispose([whole.re, whole.im, ...gWhole, w.re, w.im, ...flat(p)]);
  });
});

forEachBackend("causalConvReference (the DFT convolution, recomputed in the backward pass)", () => {
  it("= the direct sum and the matmul DFT convolution, values and gradients of u and k (b=2 h=3 l=40; atol 1e-4 rtol 1e-4); no leaks", () => {
    const u = tf.randomNormal([2, 3, 40], 0, 1, "float32", 5),
      k = tf.randomNormal([3, 40], 0, 0.3, "float32", 6);
    const w = tf.randomNormal([2, 3, 40], 0, 1, "float32", 7);
    assertClose(lib.kernels.causalConvReference(u, k).dataSync(), lib.kernels.directCausalConv(u, k).dataSync(), 1e-4, 1e-4, "y vs direct");
    const loss = (conv) => (a, b) => tf.sum(tf.mul(conv(a, b), w));
    const got = tf.grads(loss(lib.kernels.causalConvReference))([u, k]);
    const want = tf.grads(loss(lib.kernels.matmulCausalConv))([u, k]);
    assertClose(got[0].dataSync(), want[0].dataSync(), 1e-4, 1e-4, "du");
    assertClose(got[1].dataSync(), want[1].dataSync(), 1e-4, 1e-4, "dk");
    assertNoLeak(() => tf.grads(loss(lib.kernels.causalConvReference))([u, k]), "tf.grads");
    assert.throws(
      () => lib.kernels.causalConvReference(u, tf.zeros([3, 39])),
      /causalConvReference: k \(shape \(3, 39\)\) must match the trailing axes of u/,
    );
    tf.dispose([u, k, w, ...got, ...want]);
  });
});

forEachBackend("s4dKernel beyond 128 positions (the Vandermonde product in recomputed chunks)", () => {
  const N = 6,
    L = 300,
    step = 0.05;
  const Lambda = lib.s4dInvInit(N);
  const parts = (seed) => ({ re: Float64Array.from(randn(N, seed)), im: Float64Array.from(randn(N, seed + 1)) });
  const B = parts(1),
    C = parts(3);

  /** K_l = 2·Re Σ_n C_n B̄_n Ā_n^l with ZOH, Ā = e^{ΔΛ}, B̄ = (Ā − 1)/Λ · B, in float64. */
  function kernel64() {
    const K = new Float64Array(L);
    for (let n = 0; n < N; n++) {
      const [lr, li] = [Lambda.re[n], Lambda.im[n]];
      const e = Math.exp(step * lr),
        ar = e * Math.cos(step * li),
        ai = e * Math.sin(step * li); // Ā
      const d = lr * lr + li * li,
        qr = ((ar - 1) * lr + ai * li) / d,
        qi = (ai * lr - (ar - 1) * li) / d; // (Ā − 1)/Λ
      const br = qr * B.re[n] - qi * B.im[n],
        bi = qr * B.im[n] + qi * B.re[n]; // B̄
      let wr = C.re[n] * br - C.im[n] * bi,
        wi = C.re[n] * bi + C.im[n] * br; // C·B̄·Ā^0
      for (let l = 0; l < L; l++) {
        K[l] += 2 * wr;
        [wr, wi] = [wr * ar - wi * ai, wr * ai + wi * ar];
      }
    }
    return K;
  }

  it("= the float64 Vandermonde sum (L=300, three chunks; atol 1e-4, rtol 1e-3); gradients = central differences (eps 1e-2, rtol 2e-2); no leaks", () => {
    const t = (v) => tf.tensor1d(Float32Array.from(v));
    const x0 = [t(Lambda.re), t(Lambda.im), t(B.re), t(B.im), t(C.re), t(C.im), tf.scalar(Math.log(step))];
    const K = (Lre, Lim, Bre, Bim, Cre, Cim, logStep) =>
      lib.s4dKernel({ re: Lre, im: Lim }, { re: Bre, im: Bim }, { re: Cre, im: Cim }, tf.exp(logStep), L, "zoh");
    tf.tidy(() => assertClose(K(...x0).dataSync(), kernel64(), 1e-4, 1e-3, "K"));
    const w = tf.tensor1d(randn(L, 9));
    const loss = (...xs) => tf.sum(tf.mul(w, K(...xs)));
    const grads = tf.grads(loss)(x0);
    const r = rng(10);
    grads.forEach((g, i) => {
      const eps = i === 6 ? 1e-3 : 1e-2; // the kernel curves fast in log step
      const dir = i === 6 ? tf.scalar(1) : tf.tensor1d(Float32Array.from({ length: N }, () => r() - 0.5));
      const at = (s) => tf.tidy(() => loss(...x0.map((x, j) => (j === i ? tf.add(x, tf.mul(dir, s * eps)) : x))).dataSync()[0]);
      const fd = (at(1) - at(-1)) / (2 * eps);
      const an = tf.tidy(() => tf.sum(tf.mul(g, dir)).dataSync()[0]);
      assert.ok(Math.abs(fd - an) <= 2e-2 * Math.max(Math.abs(an), 1e-2), `input ${i}: finite differences ${fd}, gradient ${an}`);
      dir.dispose();
    });
    assertNoLeak(() => tf.grads(loss)(x0), "tf.grads");
    tf.dispose([...grads, ...x0, w]);
  });
});
