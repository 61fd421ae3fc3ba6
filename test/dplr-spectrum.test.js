// The fused S4 kernel path (Woodbury weights → Cauchy sums → Woodbury combination, each one kernel
// with a hand-written backward) against kGenDPLR's plain tf ops.
const { forEachBackend, assertClose, randn, tf, lib, assert, describeWebGPU } = require("./helpers");

/** HiPPO-initialized DPLR parameters of H channels with small seeded perturbations, and log Δ. */
function params(H, N, seed) {
  const hippo = lib.makeDPLRHiPPO(N);
  const tile = (v, s) =>
    tf.tensor2d(
      Float32Array.from(randn(H * N, s), (x, i) => v[i % N] + 0.05 * x),
      [H, N],
    );
  return [
    tile(hippo.Lambda.re, seed),
    tile(hippo.Lambda.im, seed + 1),
    tile(hippo.P.re, seed + 2),
    tile(hippo.P.im, seed + 3),
    tile(hippo.B.re, seed + 4),
    tile(hippo.B.im, seed + 5),
    tf.tensor2d(randn(H * N, seed + 6), [H, N]),
    tf.tensor2d(randn(H * N, seed + 7), [H, N]),
    tf.tensor1d(Float32Array.from(randn(H, seed + 8), (x) => -4 + x)),
  ];
}

const NAMES = ["Λ.re", "Λ.im", "P.re", "P.im", "B.re", "B.im", "C.re", "C.im", "log Δ"];

/**
 * loss = Σ w·K for the kernel K (H, L). `fused`: Q is P itself (the fused path); otherwise Q is a
 * copy of P made by a tf op, so the same math runs through kGenDPLR and P still gets Q's share of
 * the gradient.
 */
function lossFn(fused, L, w) {
  return (lr, li, pr, pi, br, bi, cr, ci, ls) => {
    const P = { re: pr, im: pi };
    const Q = fused ? P : { re: tf.add(pr, tf.zerosLike(pr)), im: tf.add(pi, tf.zerosLike(pi)) };
    const K = lib.kernelDPLR({ Lambda: { re: lr, im: li }, P, Q, B: { re: br, im: bi }, C: { re: cr, im: ci } }, tf.exp(ls), L);
    return tf.sum(tf.mul(K, w));
  };
}

async function compare(H, N, L, seed) {
  const xs = params(H, N, seed);
  const w = tf.tensor2d(randn(H * L, seed + 20), [H, L]);
  const fused = tf.grads(lossFn(true, L, w))(xs),
    ref = tf.grads(lossFn(false, L, w))(xs);
  const P = { re: xs[2], im: xs[3] };
  const sys = { Lambda: { re: xs[0], im: xs[1] }, P, B: { re: xs[4], im: xs[5] }, C: { re: xs[6], im: xs[7] } };
  const kFused = await lib.kernelDPLR({ ...sys, Q: P }, tf.exp(xs[8]), L).data();
  const kRef = await lib.kernelDPLR({ ...sys, Q: { re: tf.clone(xs[2]), im: tf.clone(xs[3]) } }, tf.exp(xs[8]), L).data();
  assertClose(kFused, kRef, 1e-5 * Math.max(...Array.from(kRef, Math.abs)), 1e-3, "K");
  for (let i = 0; i < xs.length; i++) {
    const r = await ref[i].data();
    assertClose(await fused[i].data(), r, 1e-4 * Math.max(...Array.from(r, Math.abs)), 1e-3, `d${NAMES[i]}`);
  }
}

forEachBackend("fused DPLR kernel path (S4, Q = P)", () => {
  it("the fused kernels are registered for this backend", () => {
    assert.ok(lib.kernels.hasDPLRSpectrumKernels());
  });

  for (const [H, N, L] of [
    [1, 1, 1],
    [2, 4, 7],
    [3, 8, 16],
    [2, 16, 784],
  ]) {
    it(`kernel and all nine gradients = kGenDPLR's tf ops, H=${H} N=${N} L=${L} (atol 1e-4·scale, rtol 1e-3)`, async () => {
      await compare(H, N, L, 10 * H + N);
    });
  }

  it("an S4 layer's kernel runs the fused path: a handful of kernels forward and backward", async () => {
    const layer = new lib.nn.S4Layer({ h: 4, n: 8, l: 32, seed: 1 });
    const vars = Object.values(layer.parameters());
    const prof = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.kernel()), vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = prof.kernels.map((k) => k.name);
    for (const k of ["DPLRWeights", "CauchyBilinear", "DPLRWoodbury", "DPLRWoodburyGrad", "CauchyBilinearGrad", "DPLRWeightsGrad"]) {
      assert.equal(names.filter((n) => n === k).length, 1, `${k} runs once`);
    }
    // Before fusion this was about 400 kernels; the count is deterministic.
    assert.ok(names.length < 80, `${names.length} kernels: ${names.join(", ")}`);
    layer.dispose();
  });

  it("leaves no tensors behind, and a layer's roots go with the layer", () => {
    const before = tf.memory().numTensors;
    const layer = new lib.nn.S4Layer({ h: 2, n: 4, l: 8, seed: 2 });
    tf.dispose(layer.kernel());
    const { value, grads } = tf.variableGrads(() => tf.sum(layer.kernel()), Object.values(layer.parameters()));
    tf.dispose([value, ...Object.values(grads)]);
    layer.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("bad shapes are named", () => {
    const z = lib.rootsOfUnityPairs(8);
    const p = { re: tf.zeros([2, 4]), im: tf.zeros([2, 4]) };
    assert.throws(
      () => lib.kernels.dplrSpectrum(tf.zeros([2, 4]), p, p, p, tf.ones([2]), z),
      /dplrSpectrum: lambda must have shape \(H, N, 2\), got \(2, 4\)/,
    );
    assert.throws(
      () => lib.kernels.dplrSpectrum(tf.zeros([2, 4, 2]), p, { re: tf.zeros([2, 5]), im: tf.zeros([2, 5]) }, p, tf.ones([2]), z),
      /dplrSpectrum: B\.re must have shape \(2, 4\), got \(2, 5\)/,
    );
    assert.throws(
      () => lib.kernels.dplrSpectrum(tf.zeros([2, 4, 2]), p, p, p, tf.ones([3]), z),
      /dplrSpectrum: step must have shape \(2\), got \(3\)/,
    );
    assert.throws(
      () => lib.kernelDPLR({ Lambda: p, P: p, Q: p, B: p, C: p }, 0.1, 8, lib.rootsOfUnityPairs(9)),
      /kernelDPLR: roots must have shape \(8, 2\), got \(9, 2\)/,
    );
  });
});

describeWebGPU("fused DPLR kernel path on WebGPU", function () {
  it("WGSL kernels = kGenDPLR's tf ops, values and gradients (H=3, N=8, L=16 and H=2, N=16, L=784)", async () => {
    await compare(3, 8, 16, 5);
    await compare(2, 16, 784, 6);
  });
});
