// Shared test helpers: backends to run on, closeness checks with stated tolerances, leak checks,
// and a seeded random generator.
const assert = require("node:assert/strict");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");
const { skipSuite } = require("./skip-notice");

/**
 * The golden-value fixtures (float64 values from an independent implementation), kept in the
 * repository; S4_FIXTURES=<folder> runs another set of fixture files instead.
 */
const FIXTURES = process.env.S4_FIXTURES || require("node:path").join(__dirname, "fixtures");

/** Backends every math test runs on; webgpu joins where an adapter exists (S4_TEST_WEBGPU=1). */
const BACKENDS = ["cpu", "wasm", ...(process.env.S4_TEST_WEBGPU === "1" ? ["webgpu"] : [])];

/** Declares a describe block per backend, with that backend active for its tests. */
function forEachBackend(title, body) {
  for (const backend of BACKENDS) {
    describe(`${title} [${backend}]`, function () {
      before(async function () {
        await lib.useBackend(backend, { quiet: true });
      });
      body(backend);
    });
  }
}

/** Why WebGPU is not available here, once a describe block has found out (later ones skip at once). */
let webgpuMissing = null;

/**
 * Declares a describe block that runs on WebGPU: skipped where no adapter exists, with one line
 * per test run saying why, except that S4_REQUIRE_WEBGPU=1 (set by CI, which installs a Vulkan
 * driver) turns a missing adapter into a failure. The wasm backend is restored afterwards.
 */
function describeWebGPU(title, body) {
  describe(title, function () {
    before(async function () {
      if (webgpuMissing === null) {
        try {
          await lib.useBackend("webgpu", { quiet: true });
          return;
        } catch (e) {
          webgpuMissing = e.message.replace(/^.*is not available here: /, "");
        }
      }
      skipSuite(this, {
        kind: "WebGPU suites",
        why: webgpuMissing,
        enable: "install a Vulkan driver (Debian 12 without a GPU: libvulkan1 and" + " mesa-vulkan-drivers from bookworm-backports)",
        requireVar: "S4_REQUIRE_WEBGPU",
      });
    });
    after(async () => lib.useBackend("wasm", { quiet: true }));
    body.call(this);
  });
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise; a and b are arrays or typed arrays. */
function assertClose(a, b, atol, rtol, what) {
  const x = Array.from(a),
    y = Array.from(b);
  assert.equal(x.length, y.length, `${what}: lengths differ (${x.length} vs ${y.length})`);
  let worst = 0,
    at = -1;
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(x[i] - y[i]);
    const ratio = err === 0 ? 0 : err / (atol + rtol * Math.abs(y[i]));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  assert.ok(
    worst <= 1,
    `${what}: |got − expected| is ${worst.toFixed(2)}× the tolerance (atol ${atol}, rtol ${rtol}) at index ${at}: got ${x[at]}, expected ${y[at]}`,
  );
}

/** Runs fn and asserts it leaves tf.memory().numTensors unchanged (its result is disposed first). */
function assertNoLeak(fn, what) {
  const before = tf.memory().numTensors;
  const out = fn();
  tf.dispose(
    out && typeof out === "object" && !(out instanceof tf.Tensor) ? Object.values(out).filter((v) => v instanceof tf.Tensor) : out,
  );
  assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensor(s)`);
}

/** Runs fn (async) and asserts it leaves the tensor count unchanged, after disposing what it returns. */
async function assertNoLeakAsync(fn, what) {
  const before = tf.memory().numTensors;
  tf.dispose(await fn());
  assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensor(s)`);
}

/** Float64 AdamW on plain arrays, the reference of the optimizer tests; st = { m, v, t } is updated. */
function adamwReferenceStep(p, g, st, { lr, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0 }) {
  st.t += 1;
  const bc1 = 1 - b1 ** st.t,
    bc2 = 1 - b2 ** st.t;
  return p.map((x, i) => {
    st.m[i] = b1 * st.m[i] + (1 - b1) * g[i];
    st.v[i] = b2 * st.v[i] + (1 - b2) * g[i] * g[i];
    const mh = st.m[i] / bc1,
      vh = st.v[i] / bc2;
    return x - lr * (mh / (Math.sqrt(vh) + eps) + wd * x);
  });
}

/**
 * Checks the gradients of f at xs (tf.grads) against central finite differences along one seeded
 * random direction v per input: |fd − ⟨g, v⟩| ≤ rtol·max(|⟨g, v⟩|, 1e-2). `names` label the inputs.
 */
function assertDirectionalGradients(f, xs, names, { eps = 1e-2, rtol = 2e-2, seed }) {
  const grads = tf.grads(f)(xs);
  const r = lib.mulberry32(seed);
  names.forEach((k, i) => {
    const dir = tf.tensor(
      Float32Array.from({ length: xs[i].size }, () => r() - 0.5),
      xs[i].shape,
    );
    const shifted = (s) => xs.map((t, j) => (j === i ? tf.add(t, tf.mul(dir, s)) : t));
    const fd = tf.tidy(() => (f(...shifted(eps)).dataSync()[0] - f(...shifted(-eps)).dataSync()[0]) / (2 * eps));
    const an = tf.tidy(() => tf.sum(tf.mul(grads[i], dir)).dataSync()[0]);
    assert.ok(Math.abs(fd - an) <= rtol * Math.max(Math.abs(an), 1e-2), `d${k}·v: finite differences ${fd}, gradient ${an}`);
    dir.dispose();
  });
  tf.dispose(grads);
}

/** The library's seeded generator (mulberry32), uniform in [0, 1). */
const rng = lib.mulberry32;

/** n normal-ish samples (sum of uniforms) from a seeded generator. */
function randn(n, seed) {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() + r() + r() - 1.5);
}

module.exports = {
  FIXTURES,
  BACKENDS,
  forEachBackend,
  describeWebGPU,
  skipSuite,
  assertClose,
  assertNoLeak,
  assertNoLeakAsync,
  adamwReferenceStep,
  assertDirectionalGradients,
  rng,
  randn,
  tf,
  lib,
  assert,
};
