// The selective scan: fused kernels (host loops on cpu/wasm, WGSL on webgpu) against the tf-ops
// reference, gradients against autodiff and finite differences, leaks, errors, golden values.
const fs = require("node:fs");
const path = require("node:path");
const {
  FIXTURES,
  forEachBackend,
  assertClose,
  assertNoLeak,
  assertDirectionalGradients,
  rng,
  tf,
  lib,
  assert,
  describeWebGPU,
} = require("./helpers");

const { selectiveScan, selectiveScanReference } = lib.kernels;
const { makeInputs, optsOf, ALL, NONE, label, diffInputs, lossFn, weights } = require("./selective-scan-cases");
const { parseFixtureFile, runFixtureCase } = require("../dist/fixtures");
/** @typedef {[import("./selective-scan-cases").Sizes, import("./selective-scan-cases").Variant]} ScanCase */

/** Reference gradients by autodiff; an input the loss does not reach (A when l = 1: h_0 does not
 * depend on it) gets zeros, which is what the kernel must give too. */
function referenceGrads(f, xs) {
  const { value, grads } = tf.engine().gradients(() => f(...xs), xs, null, true);
  value.dispose();
  return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
}

forEachBackend("selectiveScan", (backend) => {
  it("runs the fused kernels here", () => {
    assert.ok(tf.getKernel("SelectiveScan", backend) && tf.getKernel("SelectiveScanGrad", backend));
  });

  // Float64 kernel vs float32 reference: agreement to a few float32 roundings.
  it("forward = reference for every combination of D, z, deltaBias, softplus (b=2, d=3, n=4, l=3; atol 1e-5, rtol 1e-4)", () => {
    const sizes = { b: 2, d: 3, n: 4, l: 3 };
    const x = makeInputs(sizes, 10);
    for (let mask = 0; mask < 16; mask++) {
      const v = { D: !!(mask & 1), z: !!(mask & 2), bias: !!(mask & 4), softplus: !!(mask & 8) };
      const got = selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
      const want = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
      assert.deepEqual(got.y.shape, [2, 3, 3]);
      assert.deepEqual(got.lastState.shape, [2, 3, 4]);
      assertClose(got.y.dataSync(), want.y.dataSync(), 1e-5, 1e-4, `y (${label(v)})`);
      assertClose(got.lastState.dataSync(), want.lastState.dataSync(), 1e-5, 1e-4, `lastState (${label(v)})`);
      tf.dispose([got.y, got.lastState, want.y, want.lastState]);
    }
    tf.dispose(Object.values(x));
  });

  /** @type {ScanCase[]} */
  const forwardCases = [
    [{ b: 1, d: 1, n: 1, l: 1 }, ALL],
    [{ b: 3, d: 2, n: 3, l: 1 }, NONE],
    [{ b: 2, d: 2, n: 4, l: 784 }, ALL],
    [{ b: 1, d: 3, n: 5, l: 1024 }, NONE],
    [{ b: 2, d: 1, n: 16, l: 1024 }, ALL],
  ];
  for (const [sizes, v] of forwardCases) {
    it(`forward = reference at b=${sizes.b} d=${sizes.d} n=${sizes.n} l=${sizes.l} (${label(v)}; atol 1e-5, rtol 1e-4)`, () => {
      const x = makeInputs(sizes, 20);
      const got = selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
      const want = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
      assertClose(got.y.dataSync(), want.y.dataSync(), 1e-5, 1e-4, "y");
      assertClose(got.lastState.dataSync(), want.lastState.dataSync(), 1e-5, 1e-4, "lastState");
      tf.dispose([got.y, got.lastState, want.y, want.lastState, ...Object.values(x)]);
    });
  }

  it("forward and gradients = reference where some exponents leave the fast exp's table (A scaled by 60; atol 1e-4, rtol 1e-3)", () => {
    const sizes = { b: 1, d: 3, n: 4, l: 12 };
    const x = makeInputs(sizes, 25);
    const big = { ...x, A: tf.mul(x.A, 60) }; // δ·A reaches below −87 on some steps
    const { w, wl } = weights(sizes, 26);
    const names = diffInputs(ALL),
      xs = names.map((k) => big[k]);
    const got = selectiveScan(big.u, big.delta, big.A, big.B, big.C, optsOf(big, ALL));
    const want = selectiveScanReference(big.u, big.delta, big.A, big.B, big.C, optsOf(big, ALL));
    assertClose(got.y.dataSync(), want.y.dataSync(), 1e-5, 1e-4, "y");
    const g = tf.grads(lossFn(selectiveScan, big, ALL, names, w, wl))(xs);
    const gRef = referenceGrads(lossFn(selectiveScanReference, big, ALL, names, w, wl), xs);
    names.forEach((k, i) => assertClose(g[i].dataSync(), gRef[i].dataSync(), 1e-4, 1e-3, `d${k}`));
    tf.dispose([got.y, got.lastState, want.y, want.lastState, ...g, ...gRef, w, wl, big.A, ...Object.values(x)]);
  });

  // Gradients accumulate over l terms: atol 1e-4 absorbs the float32 rounding of large sums.
  /** @type {ScanCase[]} */
  const gradientCases = [
    [{ b: 2, d: 3, n: 4, l: 9 }, ALL],
    [{ b: 2, d: 3, n: 4, l: 9 }, NONE],
    [{ b: 1, d: 1, n: 2, l: 1 }, ALL],
    [
      { b: 2, d: 3, n: 2, l: 5 },
      { D: true, z: false, bias: true, softplus: false },
    ],
    [{ b: 1, d: 2, n: 3, l: 784 }, ALL],
  ];
  for (const [sizes, v] of gradientCases) {
    const names = diffInputs(v);
    it(`gradients of ${names.join(", ")} = reference autodiff at b=${sizes.b} d=${sizes.d} n=${sizes.n} l=${sizes.l} (${label(v)}; atol 1e-4, rtol 1e-3)`, () => {
      const x = makeInputs(sizes, 30);
      const { w, wl } = weights(sizes, 40);
      const xs = names.map((k) => x[k]);
      const got = tf.grads(lossFn(selectiveScan, x, v, names, w, wl))(xs);
      const want = referenceGrads(lossFn(selectiveScanReference, x, v, names, w, wl), xs);
      names.forEach((k, i) => {
        assert.deepEqual(got[i].shape, x[k].shape, `d${k} shape`);
        assertClose(got[i].dataSync(), want[i].dataSync(), 1e-4, 1e-3, `d${k}`);
      });
      tf.dispose([...got, ...want, w, wl, ...Object.values(x)]);
    });
  }

  // The host kernels keep per-step scratch between calls of the same sizes: a call must not read
  // what an earlier call (with softplus and the gate) left there.
  it("forward and gradients do not depend on the calls made before at the same sizes", () => {
    const sizes = { b: 2, d: 3, n: 4, l: 9 };
    const x = makeInputs(sizes, 35);
    const { w, wl } = weights(sizes, 45);
    const run = (v) => {
      const names = diffInputs(v);
      return tf.tidy(() => {
        const { y, lastState } = selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
        const grads = tf.grads(lossFn(selectiveScan, x, v, names, w, wl))(names.map((k) => x[k]));
        return [y, lastState, ...grads].map((t) => t.dataSync().slice());
      });
    };
    const other = makeInputs({ b: 1, d: 2, n: 3, l: 4 }, 36); // fresh scratch for the first call
    tf.dispose(Object.values(selectiveScan(other.u, other.delta, other.A, other.B, other.C)));
    const before = run(NONE);
    run(ALL);
    const after = run(NONE);
    after.forEach((a, i) => assert.deepEqual(a, before[i], `output ${i}`));
    tf.dispose([w, wl, ...Object.values(x), ...Object.values(other)]);
  });

  it("gradients when only y or only lastState reaches the loss = reference (atol 1e-4, rtol 1e-3)", () => {
    const sizes = { b: 2, d: 2, n: 3, l: 6 };
    const x = makeInputs(sizes, 50);
    const { w, wl } = weights(sizes, 60);
    const names = diffInputs(ALL),
      xs = names.map((k) => x[k]);
    for (const pick of ["y", "lastState"]) {
      const f =
        (scan) =>
        (...vals) => {
          const cur = { ...x };
          names.forEach((k, i) => (cur[k] = vals[i]));
          const r = scan(cur.u, cur.delta, cur.A, cur.B, cur.C, optsOf(cur, ALL));
          return tf.sum(tf.mul(r[pick], pick === "y" ? w : wl));
        };
      const got = tf.grads(f(selectiveScan))(xs),
        want = referenceGrads(f(selectiveScanReference), xs);
      names.forEach((k, i) => assertClose(got[i].dataSync(), want[i].dataSync(), 1e-4, 1e-3, `d${k} (loss on ${pick})`));
      tf.dispose([...got, ...want]);
    }
    tf.dispose([w, wl, ...Object.values(x)]);
  });

  // Central differences in float32: ε = 1e-2 keeps rounding (~1e-7·|loss|/ε) and truncation
  // (~ε²) errors well under the 2e-2 relative tolerance.
  for (const v of [ALL, NONE]) {
    it(`gradients = central finite differences along random directions (${label(v)}; eps 1e-2, rtol 2e-2)`, () => {
      const sizes = { b: 2, d: 3, n: 3, l: 5 };
      const x = makeInputs(sizes, 70);
      const { w, wl } = weights(sizes, 80);
      const names = diffInputs(v);
      const f = lossFn(selectiveScan, x, v, names, w, wl);
      const xs = names.map((k) => x[k]);
      assertDirectionalGradients(f, xs, names, { seed: 90 });
      tf.dispose([w, wl, ...Object.values(x)]);
    });
  }

  it("leaks no tensors in the forward pass or in tf.grads", () => {
    const sizes = { b: 2, d: 3, n: 4, l: 7 };
    const x = makeInputs(sizes, 100);
    const { w, wl } = weights(sizes, 110);
    for (const v of [ALL, NONE]) {
      assertNoLeak(() => selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v)), `forward (${label(v)})`);
      const names = diffInputs(v);
      assertNoLeak(() => tf.grads(lossFn(selectiveScan, x, v, names, w, wl))(names.map((k) => x[k])), `tf.grads (${label(v)})`);
    }
    tf.dispose([w, wl, ...Object.values(x)]);
  });

  it("rejects bad arguments with errors naming the argument and the expected shape", () => {
    const x = makeInputs({ b: 2, d: 4, n: 3, l: 19 }, 120);
    const bad = (t) => t;
    const call = (o) => () => selectiveScan(o.u ?? x.u, o.delta ?? x.delta, o.A ?? x.A, o.B ?? x.B, o.C ?? x.C, o.opts ?? {});
    assert.throws(call({ u: tf.zeros([2, 4]) }), /selectiveScan: u must be a rank-3 tensor \(b, d, l\), got shape \(2, 4\)/);
    assert.throws(call({ u: tf.zeros([2, 0, 19]) }), /selectiveScan: u must have nonzero sizes \(b, d, l\), got \(2, 0, 19\)/);
    assert.throws(call({ delta: tf.zeros([2, 4, 18]) }), /delta must have shape \(b, d, l\) = \(2, 4, 19\), got \(2, 4, 18\)/);
    assert.throws(call({ A: tf.zeros([4]) }), /A must be a rank-2 tensor \(d, n\) with d = 4, got shape \(4\)/);
    assert.throws(call({ A: tf.zeros([5, 3]) }), /A must have shape \(d, n\) = \(4, 3\), got \(5, 3\)/);
    assert.throws(call({ B: tf.zeros([2, 19, 3]) }), /selectiveScan: B must have shape \(b, n, l\) = \(2, 3, 19\), got \(2, 19, 3\)/);
    assert.throws(call({ C: tf.zeros([1, 3, 19]) }), /C must have shape \(b, n, l\) = \(2, 3, 19\), got \(1, 3, 19\)/);
    assert.throws(call({ opts: { D: tf.zeros([4, 1]) } }), /D must have shape \(d\) = \(4\), got \(4, 1\)/);
    assert.throws(call({ opts: { z: tf.zeros([2, 4]) } }), /z must have shape \(b, d, l\) = \(2, 4, 19\), got \(2, 4\)/);
    assert.throws(call({ opts: { deltaBias: tf.zeros([3]) } }), /deltaBias must have shape \(d\) = \(4\), got \(3\)/);
    assert.throws(call({ opts: { deltaSoftplus: 1 } }), /deltaSoftplus must be a boolean, got 1/);
    assert.throws(call({ B: bad([1, 2, 3]) }), /B must be a tf.Tensor of shape \(b, n, l\) = \(2, 3, 19\), got object/);
    assert.throws(call({ u: tf.zeros([2, 4, 19], "int32") }), /u must be float32, got int32/);
    assert.throws(
      () => selectiveScanReference(x.u, x.delta, x.A, x.C.slice([0, 0, 0], [2, 2, 19]), x.C),
      /selectiveScanReference: B must have shape/,
    );
    tf.dispose(Object.values(x));
  });

  if (backend === "cpu") {
    it("falls back to the reference (autodiff gradients) where the gradient kernel is missing", () => {
      const config = tf.getKernel("SelectiveScanGrad", "cpu");
      tf.unregisterKernel("SelectiveScanGrad", "cpu");
      try {
        const sizes = { b: 1, d: 2, n: 3, l: 4 };
        const x = makeInputs(sizes, 130);
        const { w, wl } = weights(sizes, 140);
        const names = diffInputs(ALL),
          xs = names.map((k) => x[k]);
        const got = tf.grads(lossFn(selectiveScan, x, ALL, names, w, wl))(xs);
        const want = tf.grads(lossFn(selectiveScanReference, x, ALL, names, w, wl))(xs);
        names.forEach((k, i) => assertClose(got[i].dataSync(), want[i].dataSync(), 0, 0, `d${k}`));
        tf.dispose([...got, ...want, w, wl, ...Object.values(x)]);
      } finally {
        tf.registerKernel(config);
      }
    });
  }
});

describe("selectiveScan host math (fast exp, log1p, softplus, sigmoid)", () => {
  const fm = require("../dist/kernels/selective-scan/fast-math");
  const relErr = (got, want) => (got === want ? 0 : Math.abs(got - want) / Math.abs(want));

  it("matches Math to 1e-10 relative over their ranges, and handles edges", () => {
    const r = rng(7);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const x = fm.EXP_MIN + (fm.EXP_MAX - fm.EXP_MIN) * r();
      worst = Math.max(worst, relErr(fm.fastExp(x), Math.exp(x)));
      const y = r() * (i % 2 ? 1 : 1e-4);
      if (y > 0) worst = Math.max(worst, relErr(fm.log1pUnit(y), Math.log1p(y)));
      const s = 80 * r() - 60;
      worst = Math.max(worst, relErr(fm.softplus(s), s > 20 ? s : Math.log1p(Math.exp(s))));
      worst = Math.max(worst, relErr(fm.sigmoid(s), 1 / (1 + Math.exp(-s))));
    }
    assert.ok(worst < 1e-10, `worst relative error ${worst}`);
    assert.equal(fm.fastExp(-800), 0);
    assert.equal(fm.fastExp(800), Infinity);
    assert.ok(Number.isNaN(fm.fastExp(NaN)) && Number.isNaN(fm.softplus(NaN)));
    assert.equal(fm.softplus(-Infinity), 0);
    assert.equal(fm.softplus(25), 25);
    assert.ok(relErr(fm.softplus(-100), Math.exp(-100)) < 1e-10);
  });
});

describeWebGPU("selectiveScan on WebGPU", function () {
  it("runs the fused kernels here", () => {
    assert.ok(tf.getKernel("SelectiveScan", "webgpu") && tf.getKernel("SelectiveScanGrad", "webgpu"));
  });

  /** Forward and gradients of `scan` (with `extra` options) against the tf-ops reference on
   * this backend, and no tensor left behind. */
  async function checkAgainstReference(sizes, v, extra, seed) {
    const names = diffInputs(v);
    const x = makeInputs(sizes, seed);
    const { w, wl } = weights(sizes, seed + 10);
    const before = tf.memory().numTensors;
    const got = selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v, extra));
    const want = selectiveScanReference(x.u, x.delta, x.A, x.B, x.C, optsOf(x, v));
    assertClose(await got.y.data(), await want.y.data(), 1e-5, 1e-4, "y");
    assertClose(await got.lastState.data(), await want.lastState.data(), 1e-5, 1e-4, "lastState");
    tf.dispose([got.y, got.lastState, want.y, want.lastState]);
    const xs = names.map((k) => x[k]);
    const g = tf.grads(lossFn(selectiveScan, x, v, names, w, wl, extra))(xs);
    const gRef = referenceGrads(lossFn(selectiveScanReference, x, v, names, w, wl), xs);
    for (let i = 0; i < names.length; i++) assertClose(await g[i].data(), await gRef[i].data(), 1e-4, 1e-3, `d${names[i]}`);
    tf.dispose([...g, ...gRef]);
    assert.equal(tf.memory().numTensors, before, "leaked tensors");
    tf.dispose([w, wl, ...Object.values(x)]);
  }

  // The chunked kernels (the default) at lengths inside one chunk of 256 steps, across a chunk
  // boundary and over several chunks, with a partial last chunk (784) and without (1024).
  for (const [sizes, v] of [
    [{ b: 1, d: 2, n: 3, l: 1 }, ALL],
    [{ b: 2, d: 3, n: 4, l: 3 }, ALL],
    [{ b: 2, d: 3, n: 4, l: 7 }, ALL],
    [{ b: 1, d: 2, n: 3, l: 5 }, NONE],
    [
      { b: 2, d: 2, n: 16, l: 64 },
      { D: true, z: true, bias: false, softplus: true },
    ],
    [{ b: 2, d: 3, n: 17, l: 257 }, ALL], // two groups of states, and one step into a second chunk
    [{ b: 1, d: 2, n: 4, l: 784 }, ALL],
    [{ b: 2, d: 1, n: 4, l: 1024 }, ALL],
  ]) {
    it(`chunked: forward and gradients = reference at b=${sizes.b} d=${sizes.d} n=${sizes.n} l=${sizes.l} (${label(v)}; y atol 1e-5 rtol 1e-4, grads atol 1e-4 rtol 1e-3); no leaks`, async () => {
      await checkAgainstReference(sizes, v, {}, 150);
    });
  }

  for (const [sizes, v] of [
    [{ b: 2, d: 3, n: 4, l: 7 }, ALL],
    [{ b: 1, d: 2, n: 4, l: 784 }, ALL],
  ]) {
    it(`sequential twin: forward and gradients = reference at b=${sizes.b} d=${sizes.d} n=${sizes.n} l=${sizes.l} (${label(v)}); no leaks`, async () => {
      await checkAgainstReference(sizes, v, { scan: "sequential" }, 180);
    });
  }

  it("chunked at l = 16384 (64 chunks): forward and gradients = the host kernel on wasm and the sequential twin (y atol 1e-4 rtol 1e-3, grads atol 1e-3 rtol 1e-3)", async () => {
    const sizes = { b: 1, d: 2, n: 4, l: 16384 };
    const names = diffInputs(ALL);
    /** Values and gradients of one scan on the active backend, read back to the host. */
    async function outputs(extra) {
      const x = makeInputs(sizes, 190);
      const { w, wl } = weights(sizes, 200);
      const r = selectiveScan(x.u, x.delta, x.A, x.B, x.C, optsOf(x, ALL, extra));
      const out = { y: await r.y.data(), lastState: await r.lastState.data() };
      const g = tf.grads(lossFn(selectiveScan, x, ALL, names, w, wl, extra))(names.map((k) => x[k]));
      for (let i = 0; i < names.length; i++) out[`d${names[i]}`] = await g[i].data();
      tf.dispose([r.y, r.lastState, ...g, w, wl, ...Object.values(x)]);
      return out;
    }
    const chunked = await outputs({});
    const sequential = await outputs({ scan: "sequential" });
    await lib.useBackend("wasm", { quiet: true });
    const host = await outputs({});
    await lib.useBackend("webgpu", { quiet: true });
    for (const [what, want] of [
      ["host kernel", host],
      ["sequential twin", sequential],
    ]) {
      for (const key of Object.keys(chunked)) {
        const [atol, rtol] = key === "y" || key === "lastState" ? [1e-4, 1e-3] : [1e-3, 1e-3];
        assertClose(chunked[key], want[key], atol, rtol, `${key} vs ${what}`);
      }
    }
  });

  it("the chunked forward and backward never make a buffer of b·d·l·n floats (the sequential backward does)", async () => {
    const sizes = { b: 1, d: 16, n: 16, l: 1024 };
    const { b, d, n, l } = sizes;
    const statesSize = b * d * l * n;
    // What the chunked kernels may hold: five values per step, or the packed gradients.
    const ownSize = Math.max(5 * b * d * l, 3 * b * d * l + 2 * b * n * l + d * n + 2 * d);
    // this suite runs on WebGPU only
    const backend = /** @type {import("@tensorflow/tfjs-backend-webgpu").WebGPUBackend} */ (tf.backend());
    const original = backend.runWebGPUProgram;
    /** The largest output of any program run while `f` runs. */
    async function largestBuffer(f) {
      let largest = 0;
      backend.runWebGPUProgram = function (program, ...rest) {
        largest = Math.max(
          largest,
          program.outputShape.reduce((a, b) => a * b, 1),
        );
        return original.call(this, program, ...rest);
      };
      try {
        await f();
      } finally {
        backend.runWebGPUProgram = original;
      }
      return largest;
    }
    const names = diffInputs(ALL);
    const fwdBwd = (extra) => async () => {
      const x = makeInputs(sizes, 210);
      const { w, wl } = weights(sizes, 220);
      const g = tf.grads(lossFn(selectiveScan, x, ALL, names, w, wl, extra))(names.map((k) => x[k]));
      for (const t of g) await t.data();
      tf.dispose([...g, w, wl, ...Object.values(x)]);
    };
    const chunked = await largestBuffer(fwdBwd({}));
    const sequential = await largestBuffer(fwdBwd({ scan: "sequential" }));
    assert.ok(sequential >= statesSize, `the sequential backward's largest buffer (${sequential}) holds every state (${statesSize})`);
    assert.ok(
      chunked <= ownSize && ownSize < statesSize,
      `the chunked kernels' largest buffer has ${chunked} floats; b·d·l·n = ${statesSize}`,
    );
  });

  it("rejects an unknown scan method, naming the option", () => {
    const x = makeInputs({ b: 1, d: 1, n: 2, l: 3 }, 230);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: an unknown scan method
      () => selectiveScan(x.u, x.delta, x.A, x.B, x.C, { scan: "parallel" }),
      /scan must be one of "chunked", "sequential", got "parallel"/,
    );
    tf.dispose(Object.values(x));
  });

  it("every selective_scan golden case passes", async () => {
    const file = path.join(FIXTURES, "kernels.json");
    const { cases } = parseFixtureFile(fs.readFileSync(file, "utf8"), file);
    const scans = cases.filter((c) => c.fn === "selective_scan");
    assert.ok(scans.length >= 2, "selective_scan cases present");
    for (const c of scans) {
      const r = await runFixtureCase(c);
      assert.ok(r.pass, `${c.name}: ${r.error ?? r.worstRatio}`);
    }
  });

  it("says when the state size is too large for the forward shader", () => {
    const x = makeInputs({ b: 1, d: 1, n: 65, l: 2 }, 170);
    assert.throws(
      () => selectiveScan(x.u, x.delta, x.A, x.B, x.C),
      /WebGPU kernel supports a state size n \(A is \(d, n\)\) of at most 64, got n = 65/,
    );
    tf.dispose(Object.values(x));
  });
});
