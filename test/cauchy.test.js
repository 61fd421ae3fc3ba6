// The fused Cauchy-sum kernel of the S4 kernel generation against its plain-tf-ops twin.
const { forEachBackend, assertClose, randn, tf, lib, assert, describeWebGPU } = require("./helpers");

/** Random inputs of the op: H rows, M weight vectors, N modes (Re λ < 0), L roots of unity. */
function inputs(H, M, N, L, seed) {
  const w = lib.rootsOfUnity(L);
  return {
    lambda: {
      re: tf.tensor2d(
        randn(H * N, seed).map((x) => -0.2 - Math.abs(x)),
        [H, N],
      ),
      im: tf.tensor2d(
        randn(H * N, seed + 1).map((x) => 20 * x),
        [H, N],
      ),
    },
    v: { re: tf.tensor3d(randn(H * M * N, seed + 2), [H, M, N]), im: tf.tensor3d(randn(H * M * N, seed + 3), [H, M, N]) },
    step: tf.tensor1d(randn(H, seed + 4).map((x) => 0.01 + 0.05 * Math.abs(x))),
    z: { re: tf.tensor1d(Float32Array.from(w.re)), im: tf.tensor1d(Float32Array.from(w.im)) },
  };
}

/** Value and gradients (w.r.t. λ, v, Δ) of loss = Σ a·Re S + b·Im S, through `op`. */
function valueAndGrads(op, x, H, M, L, seed) {
  const a = tf.tensor3d(randn(H * M * L, seed + 10), [H, M, L]),
    b = tf.tensor3d(randn(H * M * L, seed + 11), [H, M, L]);
  const loss = (lr, li, vr, vi, st) => {
    const S = op({ re: lr, im: li }, { re: vr, im: vi }, st, x.z);
    return tf.add(tf.sum(tf.mul(a, S.re)), tf.sum(tf.mul(b, S.im)));
  };
  const S = op(x.lambda, x.v, x.step, x.z);
  const g = tf.grads(loss)([x.lambda.re, x.lambda.im, x.v.re, x.v.im, x.step]);
  return { S, g, loss };
}

const NAMES = ["λ.re", "λ.im", "v.re", "v.im", "Δ"];

forEachBackend("Cauchy sums (the S4 kernel's core)", () => {
  for (const [H, M, N, L] of [
    [1, 4, 1, 1],
    [1, 4, 4, 3],
    [2, 4, 8, 16],
    [3, 4, 16, 784],
    [2, 4, 8, 1024],
    [2, 3, 5, 15],
  ]) {
    it(`kernel = reference, values and gradients, H=${H} M=${M} N=${N} L=${L} (atol 1e-4·scale, rtol 1e-3)`, async () => {
      const x = inputs(H, M, N, L, H + N + L);
      const k = valueAndGrads(lib.kernels.cauchyBilinear, x, H, M, L, 1);
      const r = valueAndGrads(lib.kernels.cauchyBilinearReference, x, H, M, L, 1);
      for (const part of ["re", "im"]) {
        const ref = await r.S[part].data();
        const scale = Math.max(...Array.from(ref, Math.abs));
        assertClose(await k.S[part].data(), ref, 1e-4 * scale, 1e-3, `S.${part}`);
      }
      for (let i = 0; i < 5; i++) {
        const ref = await r.g[i].data();
        const scale = Math.max(...Array.from(ref, Math.abs));
        assertClose(await k.g[i].data(), ref, 1e-4 * scale, 1e-3, `d${NAMES[i]}`);
      }
    });
  }

  it("gradients match central finite differences (H=2, M=4, N=6, L=12; eps 1e-3, rtol 2e-2)", () => {
    const [H, M, N, L] = [2, 4, 6, 12];
    const x = inputs(H, M, N, L, 77);
    const { g, loss } = valueAndGrads(lib.kernels.cauchyBilinear, x, H, M, L, 3);
    const x0 = [x.lambda.re, x.lambda.im, x.v.re, x.v.im, x.step];
    g.forEach((gi, i) => {
      const d = tf.tensor(randn(x0[i].size, 90 + i), x0[i].shape);
      const eps = i === 4 ? 1e-4 : 1e-3;
      const at = (s) => loss(...x0.map((t, j) => (j === i ? tf.add(t, tf.mul(d, s)) : t))).dataSync()[0];
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      assertClose([tf.sum(tf.mul(gi, d)).dataSync()[0]], [fd], 1e-3 * (1 + Math.abs(fd)), 2e-2, `d${NAMES[i]} · direction`);
    });
  });

  it("leaves no tensors behind (forward and gradient)", () => {
    const x = inputs(2, 4, 4, 8, 5);
    const before = tf.memory().numTensors;
    const S = lib.kernels.cauchyBilinear(x.lambda, x.v, x.step, x.z);
    tf.dispose([S.re, S.im]);
    const g = tf.grads((a) => tf.sum(lib.kernels.cauchyBilinear({ re: a, im: x.lambda.im }, x.v, x.step, x.z).re))([x.lambda.re]);
    tf.dispose(g);
    assert.equal(tf.memory().numTensors, before);
  });

  it("bad shapes are named", () => {
    const x = inputs(2, 4, 4, 8, 5);
    assert.throws(
      () => lib.kernels.cauchyBilinear(x.lambda, { re: tf.zeros([2, 4, 5]), im: tf.zeros([2, 4, 5]) }, x.step, x.z),
      /cauchyBilinear: v must have shape \(H, M, N\) = \(2, M, 4\), got \(2, 4, 5\)/,
    );
    assert.throws(
      () => lib.kernels.cauchyBilinear(x.lambda, x.v, tf.zeros([3]), x.z),
      /cauchyBilinear: step must have shape \(2\), got \(3\)/,
    );
    assert.throws(
      () => lib.kernels.cauchyBilinear({ re: tf.zeros([4]), im: tf.zeros([4]) }, x.v, x.step, x.z),
      /lambda must have shape \(H, N\)/,
    );
  });
});

describeWebGPU("Cauchy sums on WebGPU", function () {
  it("WGSL kernel = reference, values and gradients (H=2, M=4, N=8, L=16)", async () => {
    const [H, M, N, L] = [2, 4, 8, 16];
    const x = inputs(H, M, N, L, 21);
    const k = valueAndGrads(lib.kernels.cauchyBilinear, x, H, M, L, 2);
    const r = valueAndGrads(lib.kernels.cauchyBilinearReference, x, H, M, L, 2);
    for (const part of ["re", "im"]) {
      const ref = await r.S[part].data();
      assertClose(await k.S[part].data(), ref, 1e-4 * Math.max(...Array.from(ref, Math.abs)), 1e-3, `S.${part}`);
    }
    for (let i = 0; i < 5; i++) {
      const ref = await r.g[i].data();
      assertClose(await k.g[i].data(), ref, 1e-4 * Math.max(...Array.from(ref, Math.abs)), 1e-3, `d${NAMES[i]}`);
    }
  });
});
