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

/**
 * The host-kernel ops with a threaded path: each makes its inputs and returns the outputs and the
 * gradients of Σ y·r with respect to every input, as plain arrays.
 */
const CASES = {
  cauchy: () => {
    const [H, N, M, L] = [5, 6, 4, 9];
    const c = (shape, seed) => ({ re: tf.tensor(values(shape.reduce((a, b) => a * b), seed), shape), im: tf.tensor(values(shape.reduce((a, b) => a * b), seed + 1), shape) });
    const v = c([H, M, N], 3);
    const lambda = { re: tf.tensor(Float32Array.from(values(H * N, 1), (x) => -0.5 - Math.abs(x)), [H, N]), im: tf.tensor(values(H * N, 2), [H, N]) }; // Re λ < 0
    const step = tf.tensor1d(Float32Array.from(values(H, 5), (x) => 0.01 + Math.abs(x) * 0.1));
    const omega = lib.rootsOfUnity(L);
    const z = { re: tf.tensor1d(Float32Array.from(omega.re)), im: tf.tensor1d(Float32Array.from(omega.im)) };
    const xs = [lambda.re, lambda.im, v.re, v.im, step];
    const f = (lr, li, vr, vi, s) => {
      const S = lib.cauchyBilinear({ re: lr, im: li }, { re: vr, im: vi }, s, z);
      return tf.concat([S.re, S.im]);
    };
    return { xs, f, extra: [z.re, z.im] };
  },
  irdft: () => {
    const xs = [tf.tensor(values(7 * 12, 11), [7, 12]), tf.tensor(values(7 * 12, 12), [7, 12])];
    return { xs, f: (re, im) => lib.irdft(re, im), extra: [] };
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
    for (const bad of ["0", "two", "1.5", "-2"]) assert.throws(() => threadsFromEnv({ S4_THREADS: bad }, 4), /S4_THREADS must be a whole number/);
  });
});
