// Host kernels on worker threads: every output and gradient is the same, bit for bit, at any
// thread count (the work splits into units that never share an output element), on cpu and wasm.
const assert = require("node:assert/strict");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");
const { forEachBackend, rng } = require("./helpers");

const { setHostThreads, hostThreads } = lib.kernels;

/** Random float32 values from a seeded generator, in [-scale, scale). */
function values(n, seed, scale = 1) {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * next() - 1));
}

/** A tensor of `shape` filled with values(size, seed, scale). */
const seededTensor = (shape, seed, scale = 1) =>
  tf.tensor(
    values(
      shape.reduce((a, c) => a * c, 1),
      seed,
      scale,
    ),
    shape,
  );

/**
 * The host-kernel ops with a threaded path: each makes its inputs and returns the outputs and the
 * gradients of Σ y·r with respect to every input, as plain arrays.
 */
const CASES = {
  cauchy: () => {
    const [H, N, M, L] = [5, 6, 4, 9];
    const c = (shape, seed) => ({
      re: tf.tensor(
        values(
          shape.reduce((a, b) => a * b),
          seed,
        ),
        shape,
      ),
      im: tf.tensor(
        values(
          shape.reduce((a, b) => a * b),
          seed + 1,
        ),
        shape,
      ),
    });
    const v = c([H, M, N], 3);
    const lambda = {
      re: tf.tensor(
        Float32Array.from(values(H * N, 1), (x) => -0.5 - Math.abs(x)),
        [H, N],
      ),
      im: tf.tensor(values(H * N, 2), [H, N]),
    }; // Re λ < 0
    const step = tf.tensor1d(Float32Array.from(values(H, 5), (x) => 0.01 + Math.abs(x) * 0.1));
    const omega = lib.rootsOfUnity(L);
    const z = { re: tf.tensor1d(Float32Array.from(omega.re)), im: tf.tensor1d(Float32Array.from(omega.im)) };
    const xs = [lambda.re, lambda.im, v.re, v.im, step];
    const f = (lr, li, vr, vi, s) => {
      const S = lib.kernels.cauchyBilinear({ re: lr, im: li }, { re: vr, im: vi }, s, z);
      return tf.concat([S.re, S.im]);
    };
    return { xs, f, extra: [z.re, z.im] };
  },
  // The whole S4 kernel: DPLR weights, Cauchy sums, Woodbury, inverse DFT (units per channel h).
  kernel_dplr: () => {
    const [H, N, L] = [5, 6, 10];
    const t = (seed, f = (x) => x) => tf.tensor(Float32Array.from(values(H * N, seed), f), [H, N]);
    const xs = [
      t(61, (x) => -0.2 - Math.abs(x)),
      t(62, (x) => 5 * x),
      t(63),
      t(64),
      t(65),
      t(66),
      t(67),
      t(68),
      tf.tensor1d([-4, -3, -2.5, -2, -1]),
    ];
    const f = (lr, li, pr, pi, br, bi, cr, ci, logStep) => {
      const P = { re: pr, im: pi };
      return lib.kernelDPLR({ Lambda: { re: lr, im: li }, P, Q: P, B: { re: br, im: bi }, C: { re: cr, im: ci } }, tf.exp(logStep), L);
    };
    return { xs, f, extra: [] };
  },
  irdft: () => {
    const xs = [tf.tensor(values(7 * 12, 11), [7, 12]), tf.tensor(values(7 * 12, 12), [7, 12])];
    return { xs, f: (re, im) => lib.kernels.irdft(re, im), extra: [] };
  },
  causal_conv: () => {
    // odd batch and odd channel count (rows paired across channels, a channel left alone), and
    // u (b, l) with k (l): one channel
    const xs = [
      seededTensor([3, 5, 13], 41),
      seededTensor([5, 13], 42),
      seededTensor([4, 2, 3, 10], 43),
      seededTensor([3, 10], 44),
      seededTensor([2, 7], 45),
      seededTensor([7], 46),
    ];
    const f = (u1, k1, u2, k2, u3, k3) =>
      tf.concat([lib.kernels.causalConv(u1, k1), lib.kernels.causalConv(u2, k2), lib.kernels.causalConv(u3, k3)].map((y) => y.flatten()));
    return { xs, f, extra: [] };
  },
  selective_scan: () => {
    const [b, d, n, l] = [3, 5, 4, 7]; // odd d: the last channel pairs with itself
    const A = tf.tensor(
      Float32Array.from(values(d * n, 23), (x) => -0.2 - Math.abs(x)),
      [d, n],
    ); // A < 0
    const xs = [
      seededTensor([b, d, l], 21),
      seededTensor([b, d, l], 22, 0.5),
      A,
      seededTensor([b, n, l], 24),
      seededTensor([b, n, l], 25),
      seededTensor([d], 26),
      seededTensor([b, d, l], 27),
      seededTensor([d], 28, 0.5),
    ];
    // every option (gate, softplus, D, bias), then none, so both gate paths of the gradient run
    const f = (u, delta, A, B, C, D, z, deltaBias) => {
      const all = lib.kernels.selectiveScan(u, delta, A, B, C, { D, z, deltaBias, deltaSoftplus: true });
      const plain = lib.kernels.selectiveScan(u, delta, A, B, C);
      return tf.concat([all.y, all.lastState, plain.y, plain.lastState].map((x) => x.flatten()));
    };
    return { xs, f, extra: [] };
  },
  depthwise_conv1d: () => {
    const [b, d, l] = [3, 5, 9];
    const xs = [
      tf.tensor(values(b * d * l, 31), [b, d, l]),
      tf.tensor(values(d * 4, 32), [d, 4]),
      tf.tensor(values(d, 33), [d]),
      tf.tensor(values(d * 6, 34), [d, 6]),
    ];
    // k = 4 (one pass per row) with a bias, k = 6 (one pass per tap) without
    const f = (x, w4, bias, w6) => tf.concat([lib.kernels.causalDepthwiseConv1d(x, w4, bias), lib.kernels.causalDepthwiseConv1d(x, w6)]);
    return { xs, f, extra: [] };
  },
  // the elementwise kernels split into units of 16384 elements (or whole rows): sizes just over one
  gelu: () => ({ xs: [tf.tensor(values(3 * 101 * 67, 51, 4), [3, 101, 67])], f: (x) => lib.kernels.gelu(x), extra: [] }),
  glu: () => ({ xs: [tf.tensor(values(3 * 41 * 134, 52, 4), [3, 41, 134])], f: (x) => lib.kernels.glu(x), extra: [] }),
  dropout: () => ({ xs: [tf.tensor(values(3 * 101 * 67, 53), [3, 101, 67])], f: (x) => lib.kernels.seededDropout(x, 0.3, 5), extra: [] }),
  layer_norm: () => {
    // h = 7: 3003 rows in two blocks; h = 4097: 3 rows a block, and the dscale, dbias sums over
    // the blocks in two units of channels
    const xs = [
      seededTensor([3, 1001, 7], 54),
      seededTensor([7], 55),
      seededTensor([7], 56),
      seededTensor([9, 4097], 57),
      seededTensor([4097], 58),
      seededTensor([4097], 59),
    ];
    const f = (x1, s1, b1, x2, s2, b2) =>
      tf.concat([lib.kernels.layerNorm(x1, s1, b1).flatten(), lib.kernels.layerNorm(x2, s2, b2).flatten()]);
    return { xs, f, extra: [] };
  },
};

/** Outputs and gradients of one case at `threads` threads, as arrays. */
function evaluate(name, threads) {
  setHostThreads(threads);
  const { xs, f, extra } = CASES[name]();
  const out = tf.tidy(() => {
    const y = f(...xs);
    const r = tf.tensor(values(y.size, 99), y.shape);
    const grads = tf.grads((...a) => tf.sum(tf.mul(f(...a), r)))(xs);
    return [y, ...grads].map((t) => t.dataSync().slice());
  });
  tf.dispose([...xs, ...extra]);
  return out;
}

forEachBackend("host kernels on worker threads", () => {
  const before = hostThreads();
  after(() => setHostThreads(before));

  for (const name of Object.keys(CASES)) {
    it(`${name}: outputs and gradients are identical at 1, 2, 3 and 8 threads`, () => {
      const one = evaluate(name, 1);
      for (const threads of [2, 3, 8]) {
        const many = evaluate(name, threads);
        many.forEach((a, i) => {
          assert.ok(a.every(Number.isFinite), `${name}: non-finite values at ${threads} threads`);
          assert.deepEqual(Buffer.from(a.buffer), Buffer.from(one[i].buffer), `${name}: tensor ${i} differs at ${threads} threads`);
        });
      }
    });
  }

  it("leaks no tensors across threaded calls", () => {
    evaluate("cauchy", 2);
    const n = tf.memory().numTensors;
    evaluate("cauchy", 2);
    evaluate("irdft", 3);
    assert.equal(tf.memory().numTensors, n);
  });
});

describe("host threads: settings", () => {
  it("setHostThreads rejects a count that is not a whole number from 1 to 256", () => {
    for (const bad of [0, -1, 1.5, NaN, 1000]) assert.throws(() => setHostThreads(bad), /setHostThreads: n must be a whole number/);
  });

  it("S4_THREADS must be a whole number from 1 to 256", () => {
    const { threadsFromEnv } = require("../dist/kernels/host-threads");
    assert.equal(threadsFromEnv({}, 16), 16);
    assert.equal(threadsFromEnv({ S4_THREADS: "3" }, 16), 3);
    for (const bad of ["0", "two", "1.5", "-2"])
      assert.throws(() => threadsFromEnv({ S4_THREADS: bad }, 4), /S4_THREADS must be a whole number/);
  });
});
