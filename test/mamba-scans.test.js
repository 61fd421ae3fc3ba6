// The scans of "Mamba: The Hard Way": cumulative sums by blocks, the linear recurrence by loop,
// doubling, tree and chunks, its reverse-scan gradient, and the selective SSM (loop and parallel)
// against the fused kernel selectiveScan. References are float64 loops written here, tfjs autodiff
// of the loop, and central finite differences in float64.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { forEachBackend, describeWebGPU, assertClose, assertNoLeak, randn, rng, tf, lib, assert } = require("./helpers");

const { mamba } = lib;
/** @type {import("../dist").mamba.ScanMethod[]} */
const METHODS = ["sequential", "hillis-steele", "blelloch", "chunked"];
const prod = (shape) => shape.reduce((p, s) => p * s, 1);

/** Uniform values in [lo, hi) from a seeded generator. */
function uniform(n, seed, lo, hi) {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

// ---- float64 references ------------------------------------------------------------------------

/** h_t = a_t·h_{t−1} + b_t along rows of length l of flat arrays, in float64. */
function linearScan64(a, b, l, h0) {
  const h = new Float64Array(a.length);
  for (let r = 0; r < a.length / l; r++) {
    let s = h0 ? h0[r] : 0;
    for (let t = 0; t < l; t++) {
      const i = r * l + t;
      s = a[i] * s + b[i];
      h[i] = s;
    }
  }
  return h;
}

/** The cumulative sum of every row of length l, by the library's plain loop. */
function cumsumRows64(x, l) {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / l; r++) out.set(mamba.cumsumSequential(x.subarray(r * l, (r + 1) * l)), r * l);
  return out;
}

/** Random scan inputs a, b: shape; |a| < 1 keeps h bounded; h0: the leading shape. */
function scanInputs(shape, seed, { aLo = -0.95, aHi = 0.99 } = {}) {
  const n = prod(shape);
  const a = uniform(n, seed, aLo, aHi),
    b = randn(n, seed + 1),
    h0 = randn(n / shape[shape.length - 1], seed + 2);
  return { a, b, h0, ta: tf.tensor(a, shape), tb: tf.tensor(b, shape), th0: tf.tensor(h0, shape.slice(0, -1)) };
}

const disposeInputs = (x) => tf.dispose([x.ta, x.tb, x.th0]);

// ---- Cumulative sums -----------------------------------------------------------------------------

forEachBackend("mamba scans: cumulative sums", () => {
  it("cumsumSequential is the running total, in float64", () => {
    assert.deepEqual(Array.from(mamba.cumsumSequential([1, 2, 3, 4, -10])), [1, 3, 6, 10, 0]);
    assert.deepEqual(Array.from(mamba.cumsumSequential(new Float32Array(0))), []);
  });

  // float32 sums of up to 1000 terms of size ~1: a few 1e-5 of rounding either way.
  /** @type {[shape: number[], blockSize: number][]} */
  const cumsumCases = [
    [[1], 4],
    [[7], 1],
    [[7], 3],
    [[7], 7],
    [[7], 16],
    [[784], 16],
    [[1000], 32],
    [[2, 3, 7], 2],
    [[2, 3, 1000], 16],
    [[4, 784], 28],
    [[3, 1000], 1000],
  ];
  for (const [shape, blockSize] of cumsumCases) {
    it(`cumsumBlocked = float64 loop and = tf.cumsum for x ${JSON.stringify(shape)}, blockSize ${blockSize} (atol 1e-4, rtol 1e-4)`, async () => {
      const l = shape[shape.length - 1];
      const x = randn(prod(shape), 3 + l);
      const tx = tf.tensor(x, shape);
      const got = mamba.cumsumBlocked(tx, blockSize),
        tfs = tf.cumsum(tx, shape.length - 1);
      assert.deepEqual(got.shape, shape);
      const g = await got.data();
      assertClose(g, cumsumRows64(x, l), 1e-4, 1e-4, "vs float64 loop");
      assertClose(g, await tfs.data(), 1e-4, 1e-4, "vs tf.cumsum");
      tf.dispose([tx, got, tfs]);
    });
  }

  it("the stages: blocks, cumsum within blocks, totals, carries, result (l = 10, blockSize 4)", async () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [1, -1, 1, -1, 1, -1, 1, -1, 1, -1],
    ]);
    const s = mamba.cumsumBlockedStages(x, 4);
    assert.deepEqual(s.blocks.shape, [2, 3, 4]);
    assert.deepEqual(await s.blocks.array(), [
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 0, 0],
      ],
      [
        [1, -1, 1, -1],
        [1, -1, 1, -1],
        [1, -1, 0, 0],
      ],
    ]);
    assert.deepEqual(await s.withinBlocks.array(), [
      [
        [1, 3, 6, 10],
        [5, 11, 18, 26],
        [9, 19, 19, 19],
      ],
      [
        [1, 0, 1, 0],
        [1, 0, 1, 0],
        [1, 0, 0, 0],
      ],
    ]);
    assert.deepEqual(await s.totals.array(), [
      [10, 26, 19],
      [0, 0, 0],
    ]);
    assert.deepEqual(await s.carries.array(), [
      [0, 10, 36],
      [0, 0, 0],
    ]);
    assert.deepEqual(await s.result.array(), [
      [1, 3, 6, 10, 15, 21, 28, 36, 45, 55],
      [1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
    ]);
    tf.dispose([x, ...Object.values(s)]);
  });

  it("stage 2 recurses when there are more blocks than a block holds (l = 1000, blockSize 3: 334 → 112 → 38 → 13 → 5 → 2 blocks)", async () => {
    const x = randn(1000, 5);
    const s = mamba.cumsumBlockedStages(tf.tensor1d(x), 3);
    const totals = await s.totals.data(),
      carries = await s.carries.data();
    assert.equal(totals.length, 334);
    const incl = mamba.cumsumSequential(totals);
    assertClose(carries, [0, ...Array.from(incl).slice(0, -1)], 1e-4, 1e-4, "carries = exclusive cumsum of totals");
    assertClose(await s.result.data(), mamba.cumsumSequential(x), 1e-4, 1e-4, "result");
    tf.dispose(Object.values(s));
  });

  it("leaks no tensors", () => {
    const x = tf.tensor(randn(2 * 3 * 100, 7), [2, 3, 100]);
    assertNoLeak(() => mamba.cumsumBlocked(x, 8), "cumsumBlocked");
    assertNoLeak(() => mamba.cumsumBlockedStages(x, 8), "cumsumBlockedStages");
    x.dispose();
  });

  it("rejects bad arguments with errors naming them", () => {
    const x = tf.zeros([2, 5]);
    assert.throws(() => mamba.cumsumBlocked(x, 2.5), /cumsumBlocked: blockSize must be a positive integer, got 2.5/);
    assert.throws(() => mamba.cumsumBlocked(x, 0), /cumsumBlocked: blockSize must be a positive integer, got 0/);
    // @ts-expect-error -- deliberately wrong: a string block size
    assert.throws(() => mamba.cumsumBlocked(x, "4"), /cumsumBlocked: blockSize must be a positive integer, got "4"/);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: a plain array instead of a tensor
      () => mamba.cumsumBlocked([1, 2], 2),
      /cumsumBlocked: x must be a float32 tf.Tensor of shape \(\.\.\., l\), got an array/,
    );
    assert.throws(
      () => mamba.cumsumBlocked(tf.zeros([3], "int32"), 2),
      /x must be a float32 tf.Tensor .* got a int32 tensor of shape \(3\)/,
    );
    assert.throws(() => mamba.cumsumBlocked(tf.zeros([2, 0]), 2), /cumsumBlocked: x must have nonzero sizes \(\.\.\., l\), got \(2, 0\)/);
    assert.throws(
      () => mamba.addCarries(tf.zeros([2, 3, 4]), tf.zeros([2, 4]), 10),
      /addCarries: carries must have shape \(\.\.\., nBlocks\) = \(2, 3\), got \(2, 4\)/,
    );
    assert.throws(
      () => mamba.addCarries(tf.zeros([2, 3, 4]), tf.zeros([2, 3]), 13),
      /addCarries: l must be at most nBlocks·blockSize = 12, got 13/,
    );
    x.dispose();
  });
});

// ---- The linear recurrence ---------------------------------------------------------------------------

forEachBackend("mamba scans: h_t = a_t·h_{t−1} + b_t", () => {
  it("combine is (a1·a2, a2·b1 + b2), associative, with identity (1, 0) (atol 1e-6)", async () => {
    const t = (v) => tf.tensor1d(v);
    const p = { a: t([2, 0.5]), b: t([3, -1]) },
      q = { a: t([5, 4]), b: t([7, 2]) },
      r = { a: t([-1, 0.25]), b: t([0.5, 8]) };
    const pq = mamba.combine(p, q);
    assert.deepEqual(Array.from(await pq.a.data()), [10, 2]);
    assert.deepEqual(Array.from(await pq.b.data()), [5 * 3 + 7, 4 * -1 + 2]);
    const left = mamba.combine(pq, r),
      qr = mamba.combine(q, r),
      right = mamba.combine(p, qr);
    assertClose(await left.a.data(), await right.a.data(), 1e-6, 0, "a of (p⊕q)⊕r vs p⊕(q⊕r)");
    assertClose(await left.b.data(), await right.b.data(), 1e-6, 0, "b of (p⊕q)⊕r vs p⊕(q⊕r)");
    const id = { a: tf.onesLike(p.a), b: tf.zerosLike(p.b) },
      pid = mamba.combine(id, p);
    assert.deepEqual(Array.from(await pid.b.data()), Array.from(await p.b.data()));
    tf.dispose([p, q, r, pq, left, qr, right, id, pid].flatMap((x) => [x.a, x.b]));
  });

  // h stays within ~|b|/(1 − |a|): atol 1e-4 covers float32 rounding over 1000 steps.
  const scans = {
    linearScanSequential: (a, b, h0) => mamba.linearScanSequential(a, b, h0),
    linearScanHillisSteele: (a, b, h0) => mamba.linearScanHillisSteele(a, b, h0),
    linearScanBlelloch: (a, b, h0) => mamba.linearScanBlelloch(a, b, h0),
    "linearScanChunked (chunk 5)": (a, b, h0) => mamba.linearScanChunked(a, b, 5, h0),
    "linearScanChunked (chunk 64)": (a, b, h0) => mamba.linearScanChunked(a, b, 64, h0),
    "linearScanChunked (chunk 1)": (a, b, h0) => mamba.linearScanChunked(a, b, 1, h0),
    ...Object.fromEntries(
      METHODS.map((method) => [`linearScan (${method})`, (a, b, h0) => mamba.linearScan(a, b, { method, chunk: 16, h0 })]),
    ),
  };
  for (const shape of [[1], [7], [784], [1000], [2, 3, 7], [2, 3, 1000], [2, 1, 2, 33]]) {
    it(`every scan = float64 loop for a, b ${JSON.stringify(shape)}, with and without h0 (atol 1e-4, rtol 1e-4)`, async () => {
      const l = shape[shape.length - 1];
      const x = scanInputs(shape, 10 + l);
      const want = linearScan64(x.a, x.b, l),
        want0 = linearScan64(x.a, x.b, l, x.h0);
      for (const [name, scan] of Object.entries(scans)) {
        if (name.includes("chunk 1)") && l > 100) continue; // l chunks of one step: slow and adds nothing at this size
        const h = scan(x.ta, x.tb),
          h0 = scan(x.ta, x.tb, x.th0);
        assert.deepEqual(h.shape, shape, `${name} shape`);
        assertClose(await h.data(), want, 1e-4, 1e-4, `${name}`);
        assertClose(await h0.data(), want0, 1e-4, 1e-4, `${name} with h0`);
        tf.dispose([h, h0]);
      }
      disposeInputs(x);
    });
  }

  it("a_t = 1 gives the cumulative sum; a_t = 0 gives b (atol 1e-4)", async () => {
    const b = tf.tensor2d(randn(2 * 50, 20), [2, 50]);
    const h = mamba.linearScanBlelloch(tf.onesLike(b), b),
      z = mamba.linearScanHillisSteele(tf.zerosLike(b), b);
    assertClose(await h.data(), await tf.cumsum(b, 1).data(), 1e-4, 1e-4, "a = 1");
    assertClose(await z.data(), await b.data(), 0, 0, "a = 0");
  });

  it("ema = the float64 moving average (α = 0.1, 0.5, 1; from 0 and from h0; atol 1e-5)", async () => {
    const x = randn(3 * 40, 30),
      h0 = randn(3, 31);
    const tx = tf.tensor2d(x, [3, 40]),
      th0 = tf.tensor1d(h0);
    for (const alpha of [0.1, 0.5, 1]) {
      const a = new Float64Array(x.length).fill(1 - alpha),
        b = Float64Array.from(x, (v) => alpha * v);
      const e = mamba.ema(tx, alpha),
        e0 = mamba.ema(tx, alpha, { h0: th0 });
      assertClose(await e.data(), linearScan64(a, b, 40), 1e-5, 1e-5, `ema α=${alpha}`);
      assertClose(await e0.data(), linearScan64(a, b, 40, h0), 1e-5, 1e-5, `ema α=${alpha} from h0`);
      tf.dispose([e, e0]);
    }
    assert.throws(() => mamba.ema(tx, 0), /ema: alpha must be a number in \(0, 1\], got 0/);
    assert.throws(() => mamba.ema(tx, 1.5), /ema: alpha must be a number in \(0, 1\], got 1.5/);
    tf.dispose([tx, th0]);
  });

  it("leaks no tensors (forward, every scan)", () => {
    const x = scanInputs([2, 3, 37], 40);
    for (const [name, scan] of Object.entries(scans)) {
      assertNoLeak(() => scan(x.ta, x.tb), name);
      assertNoLeak(() => scan(x.ta, x.tb, x.th0), `${name} with h0`);
    }
    assertNoLeak(() => mamba.ema(x.tb, 0.3), "ema");
    disposeInputs(x);
  });

  it("rejects bad arguments with errors naming them", () => {
    const a = tf.zeros([2, 3]),
      b = tf.zeros([2, 4]);
    for (const name of ["linearScanSequential", "linearScanHillisSteele", "linearScanBlelloch", "linearScan"]) {
      assert.throws(
        () => mamba[name](a, b),
        new RegExp(`${name}: a and b must have the same shape \\(\\.\\.\\., l\\), got \\(2, 3\\) and \\(2, 4\\)`),
      );
      const h0 = tf.zeros([3]);
      assert.throws(
        () => mamba[name](a, a, name === "linearScan" ? { h0 } : h0),
        new RegExp(`${name}: h0 must be a float32 tf.Tensor of the leading shape of a, \\(2\\), got a float32 tensor of shape \\(3\\)`),
      );
      assert.throws(
        () => mamba[name]([1], a),
        new RegExp(`${name}: a must be a float32 tf.Tensor of shape \\(\\.\\.\\., l\\), got an array`),
      );
      h0.dispose();
    }
    assert.throws(() => mamba.linearScanChunked(a, a, 2.5), /linearScanChunked: chunk must be a positive integer, got 2.5/);
    assert.throws(() => mamba.linearScanChunked(a, a, 0), /linearScanChunked: chunk must be a positive integer, got 0/);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: an unknown method
      () => mamba.linearScan(a, a, { method: "cyclic" }),
      /linearScan: method must be one of sequential, hillis-steele, blelloch, chunked, got "cyclic"/,
    );
    assert.throws(() => mamba.linearScan(a, a, { method: "chunked", chunk: -3 }), /linearScan: chunk must be a positive integer, got -3/);
    assert.throws(() => mamba.linearScanBackward(a, a, b), /linearScanBackward: g must have the shape of a, \(2, 3\), got \(2, 4\)/);
    assert.throws(() => mamba.linearScanBackward(a, b, a), /linearScanBackward: h must have the shape of a, \(2, 3\), got \(2, 4\)/);
    tf.dispose([a, b]);
  });
});

// ---- Gradients: the reverse scan ----------------------------------------------------------------------

forEachBackend("mamba scans: gradients by the reverse scan", () => {
  /** The gradients of Σ w·scan(a, b[, h0]) by tf.grads. */
  const gradsOf = (scan, x, w, withH0) => {
    const inputs = withH0 ? [x.ta, x.tb, x.th0] : [x.ta, x.tb];
    return tf.grads((a, b, h0) => tf.sum(tf.mul(scan(a, b, h0), w)))(inputs);
  };

  for (const shape of [
    [2, 3, 9],
    [2, 1],
  ]) {
    it(`linearScanBackward(a, h, g) = autodiff of the loop, without and with h0 (shape ${JSON.stringify(shape)}; atol 1e-5, rtol 1e-4)`, async () => {
      const x = scanInputs(shape, 50);
      const g = tf.tensor(randn(prod(shape), 53), shape);
      for (const withH0 of [false, true]) {
        const h0 = withH0 ? x.th0 : undefined;
        const h = mamba.linearScanSequential(x.ta, x.tb, h0);
        for (const method of METHODS) {
          const got = mamba.linearScanBackward(x.ta, h, g, { method, chunk: 4, h0 });
          const want = gradsOf((a, b, s) => mamba.linearScanSequential(a, b, s), x, g, withH0);
          const tag = `${method}${withH0 ? " with h0" : ""}`;
          assertClose(await got.da.data(), await want[0].data(), 1e-5, 1e-4, `da (${tag})`);
          assertClose(await got.db.data(), await want[1].data(), 1e-5, 1e-4, `db (${tag})`);
          if (withH0) assertClose(await got.dh0.data(), await want[2].data(), 1e-5, 1e-4, `dh0 (${tag})`);
          else assert.equal(got.dh0, undefined);
          tf.dispose([got.da, got.db, got.dh0, ...want].filter(Boolean));
        }
        h.dispose();
      }
      tf.dispose([g]);
      disposeInputs(x);
    });
  }

  for (const shape of [[1], [7], [2, 3, 20], [784]]) {
    it(`tf.grads of linearScan (custom gradient, every method) = tf.grads of the loop, a, b ${JSON.stringify(shape)} (atol 1e-4, rtol 1e-4)`, async () => {
      const l = shape[shape.length - 1];
      const x = scanInputs(shape, 60 + l);
      const w = tf.tensor(randn(prod(shape), 63), shape);
      for (const withH0 of [false, true]) {
        const want = gradsOf((a, b, s) => mamba.linearScanSequential(a, b, s), x, w, withH0);
        for (const method of METHODS) {
          const got = gradsOf((a, b, s) => mamba.linearScan(a, b, { method, chunk: 8, h0: s }), x, w, withH0);
          for (let i = 0; i < got.length; i++) {
            assert.deepEqual(got[i].shape, want[i].shape);
            assertClose(
              await got[i].data(),
              await want[i].data(),
              1e-4,
              1e-4,
              `d${["a", "b", "h0"][i]} (${method}${withH0 ? ", h0" : ""})`,
            );
          }
          tf.dispose(got);
        }
        tf.dispose(want);
      }
      tf.dispose([w]);
      disposeInputs(x);
    });
  }

  // The loss is evaluated in float64, so ε = 1e-6 gives differences good to ~1e-8; the float32
  // gradients are good to ~1e-6 relative. Tolerance: 1e-4 + 1e-3·|g|.
  it("gradients of linearScan = central finite differences of the float64 loop (shape (2, 25); eps 1e-6; atol 1e-4, rtol 1e-3)", async () => {
    const shape = [2, 25],
      l = 25;
    const x = scanInputs(shape, 70);
    const w = randn(50, 73),
      tw = tf.tensor(w, shape);
    const loss64 = (a, b, h0) => linearScan64(a, b, l, h0).reduce((s, h, i) => s + w[i] * h, 0);
    const a64 = Float64Array.from(x.a),
      b64 = Float64Array.from(x.b),
      h064 = Float64Array.from(x.h0);
    const fd = (arr, i) => {
      const keep = arr[i],
        eps = 1e-6;
      arr[i] = keep + eps;
      const up = loss64(a64, b64, h064);
      arr[i] = keep - eps;
      const down = loss64(a64, b64, h064);
      arr[i] = keep;
      return (up - down) / (2 * eps);
    };
    for (const method of /** @type {const} */ (["blelloch", "chunked", "hillis-steele"])) {
      const [da, db, dh0] = gradsOf((a, b, s) => mamba.linearScan(a, b, { method, chunk: 4, h0: s }), x, tw, true);
      const [ga, gb, gh0] = [await da.data(), await db.data(), await dh0.data()];
      const idx = [0, 1, 12, 24, 25, 37, 49];
      assertClose(
        idx.map((i) => ga[i]),
        idx.map((i) => fd(a64, i)),
        1e-4,
        1e-3,
        `da (${method})`,
      );
      assertClose(
        idx.map((i) => gb[i]),
        idx.map((i) => fd(b64, i)),
        1e-4,
        1e-3,
        `db (${method})`,
      );
      assertClose(
        gh0,
        [0, 1].map((i) => fd(h064, i)),
        1e-4,
        1e-3,
        `dh0 (${method})`,
      );
      tf.dispose([da, db, dh0]);
    }
    tf.dispose([tw]);
    disposeInputs(x);
  });

  it("ema's gradient with respect to x = α·(reverse scan of the weights) (atol 1e-5)", async () => {
    const x = tf.tensor1d(randn(30, 80)),
      w = randn(30, 81),
      alpha = 0.2;
    const [dx] = tf.grads((v) => tf.sum(tf.mul(mamba.ema(v, alpha), tf.tensor1d(w))))([x]);
    // dL/dx_t = α·Σ_{s≥t} (1 − α)^{s−t} w_s
    const want = new Float64Array(30);
    for (let t = 29, acc = 0; t >= 0; t--) want[t] = alpha * (acc = w[t] + (1 - alpha) * acc);
    assertClose(await dx.data(), want, 1e-5, 1e-5, "dx");
    tf.dispose([x, dx]);
  });

  it("leaks no tensors under tf.grads", () => {
    const x = scanInputs([2, 3, 21], 90);
    const w = tf.tensor(randn(126, 91), [2, 3, 21]);
    for (const method of METHODS) {
      assertNoLeak(
        () => gradsOf((a, b, s) => mamba.linearScan(a, b, { method, chunk: 4, h0: s }), x, w, true),
        `tf.grads of linearScan (${method})`,
      );
    }
    const h = mamba.linearScanBlelloch(x.ta, x.tb);
    assertNoLeak(() => mamba.linearScanBackward(x.ta, h, w, { h0: x.th0 }), "linearScanBackward");
    tf.dispose([w, h]);
    disposeInputs(x);
  });
});

// ---- The selective SSM ------------------------------------------------------------------------------------

/** Random selective-SSM inputs: Δ in (0.01, 0.5), A < 0 (decaying states) as in Mamba. */
function ssmInputs({ b, d, n, l }, seed) {
  return {
    u: tf.tensor3d(randn(b * d * l, seed), [b, d, l]),
    delta: tf.tensor3d(uniform(b * d * l, seed + 1, 0.01, 0.5), [b, d, l]),
    A: tf.tensor2d(uniform(d * n, seed + 2, -2, -0.1), [d, n]),
    B: tf.tensor3d(randn(b * n * l, seed + 3), [b, n, l]),
    C: tf.tensor3d(randn(b * n * l, seed + 4), [b, n, l]),
    D: tf.tensor1d(randn(d, seed + 5)),
  };
}
const SSM_ARGS = ["u", "delta", "A", "B", "C", "D"];

/** @typedef {(...inputs: import("@tensorflow/tfjs").Tensor[]) => import("../dist").mamba.SelectiveScanResult} SSMVariant */
/** The SSM variants under test, each (u, delta, A, B, C, D) → {y, lastState}. */
const ssmVariants = (chunk) => ({
  selectiveSSMLoop: (u, dt, A, B, C, D) => mamba.selectiveSSMLoop(u, dt, A, B, C, D),
  ...Object.fromEntries(
    METHODS.map((method) => [
      `selectiveSSMParallel (${method})`,
      (u, dt, A, B, C, D) => mamba.selectiveSSMParallel(u, dt, A, B, C, D, { method, chunk }),
    ]),
  ),
  "selectiveSSMParallel (blelloch, autodiff)": (u, dt, A, B, C, D) =>
    mamba.selectiveSSMParallel(u, dt, A, B, C, D, { method: "blelloch", autodiff: true }),
});
const fused = (u, delta, A, B, C, D) => lib.kernels.selectiveScan(u, delta, A, B, C, D ? { D } : {});

/** Σ wy·y + Σ wl·lastState as a function of the six inputs. */
const ssmLoss =
  (f, wy, wl) =>
  (...xs) => {
    const { y, lastState } = f(...xs);
    return tf.add(tf.sum(tf.mul(y, wy)), tf.sum(tf.mul(lastState, wl)));
  };

/** Gradients of f at xs by autodiff; an input the loss does not reach gets zeros (A when l = 1:
 * h_0 = B̄_0 u_0 does not depend on Ā, and a scan may then never touch it). */
function gradsOrZeros(f, xs) {
  const { value, grads } = tf.engine().gradients(() => f(...xs), xs, null, true);
  value.dispose();
  return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
}

/**
 * Forward and gradients of every variant against the fused kernel.
 * @param {{ b: number, d: number, n: number, l: number }} sizes
 * @param {number} seed
 * @param {{ withD?: boolean, variants?: Record<string, SSMVariant>, grads?: boolean }} [options]
 */
async function checkSSMAgainstFused(sizes, seed, { withD = true, variants = ssmVariants(4), grads = true } = {}) {
  const x = ssmInputs(sizes, seed);
  const { b, d, n, l } = sizes;
  const xs = SSM_ARGS.map((k) => x[k]).slice(0, withD ? 6 : 5);
  const wy = tf.tensor3d(randn(b * d * l, seed + 10), [b, d, l]),
    wl = tf.tensor3d(randn(b * d * n, seed + 11), [b, d, n]);
  const want = fused(...xs);
  const wantGrads = grads ? tf.grads(ssmLoss(fused, wy, wl))(xs) : [];
  for (const [name, f] of Object.entries(variants)) {
    const got = f(...xs);
    assert.deepEqual(got.y.shape, [b, d, l], `${name} y shape`);
    assertClose(await got.y.data(), await want.y.data(), 1e-5, 1e-4, `${name}: y`);
    assertClose(await got.lastState.data(), await want.lastState.data(), 1e-5, 1e-4, `${name}: lastState`);
    tf.dispose([got.y, got.lastState]);
    if (!grads) continue;
    const g = gradsOrZeros(ssmLoss(f, wy, wl), xs);
    for (let i = 0; i < g.length; i++) assertClose(await g[i].data(), await wantGrads[i].data(), 1e-4, 1e-3, `${name}: d${SSM_ARGS[i]}`);
    tf.dispose(g);
  }
  tf.dispose([want.y, want.lastState, ...wantGrads, wy, wl, ...Object.values(x)]);
}

forEachBackend("mamba scans: the selective SSM", () => {
  it("discretizeSelective: Ā = exp(Δ·A), B̄u = Δ·B·u laid out (b, d, n, l) (rtol 1e-5)", async () => {
    const sizes = { b: 2, d: 3, n: 4, l: 5 };
    const x = ssmInputs(sizes, 100);
    const { Abar, BbarU } = mamba.discretizeSelective(x.u, x.delta, x.A, x.B);
    assert.deepEqual(Abar.shape, [2, 3, 4, 5]);
    const [u, dt, A, B] = await Promise.all([x.u.array(), x.delta.array(), x.A.array(), x.B.array()]);
    const [ab, bu] = [await Abar.array(), await BbarU.array()];
    for (const [i, c, j, t] of [
      [0, 0, 0, 0],
      [1, 2, 3, 4],
      [1, 0, 2, 3],
      [0, 1, 1, 2],
    ]) {
      assertClose([ab[i][c][j][t]], [Math.exp(dt[i][c][t] * A[c][j])], 0, 1e-5, `Ā[${i},${c},${j},${t}]`);
      assertClose([bu[i][c][j][t]], [dt[i][c][t] * B[i][j][t] * u[i][c][t]], 1e-7, 1e-5, `B̄u[${i},${c},${j},${t}]`);
    }
    tf.dispose([Abar, BbarU, ...Object.values(x)]);
  });

  // The fused kernel runs in float64 on the host; ours in float32: a few roundings apart.
  it("forward and gradients (u, Δ, A, B, C, D) of the loop and of every parallel scan = the fused kernel, b=2 d=3 n=4 l=7 (y atol 1e-5 rtol 1e-4; grads atol 1e-4 rtol 1e-3)", async () => {
    await checkSSMAgainstFused({ b: 2, d: 3, n: 4, l: 7 }, 110);
  });

  it("the same without D, and at l = 1", async () => {
    await checkSSMAgainstFused({ b: 2, d: 2, n: 3, l: 5 }, 120, { withD: false });
    await checkSSMAgainstFused({ b: 1, d: 2, n: 3, l: 1 }, 130);
  });

  it("forward and gradients at l = 784 (b=1 d=2 n=3; loop, Blelloch and chunked)", async () => {
    const all = ssmVariants(64);
    const variants = {
      selectiveSSMLoop: all.selectiveSSMLoop,
      blelloch: all["selectiveSSMParallel (blelloch)"],
      chunked: all["selectiveSSMParallel (chunked)"],
    };
    await checkSSMAgainstFused({ b: 1, d: 2, n: 3, l: 784 }, 140, { variants });
  });

  it("forward at l = 1000 (b=1 d=2 n=8; Hillis–Steele and chunked)", async () => {
    const all = ssmVariants(100);
    const variants = { hs: all["selectiveSSMParallel (hillis-steele)"], chunked: all["selectiveSSMParallel (chunked)"] };
    await checkSSMAgainstFused({ b: 1, d: 2, n: 8, l: 1000 }, 150, { variants, grads: false });
  });

  it("leaks no tensors (forward and tf.grads)", () => {
    const x = ssmInputs({ b: 2, d: 3, n: 4, l: 9 }, 160);
    const xs = SSM_ARGS.map((k) => x[k]);
    const wy = tf.ones([2, 3, 9]),
      wl = tf.ones([2, 3, 4]);
    for (const [name, f] of Object.entries(ssmVariants(4))) {
      assertNoLeak(() => f(...xs), name);
      assertNoLeak(() => tf.grads(ssmLoss(f, wy, wl))(xs), `tf.grads of ${name}`);
    }
    const d = mamba.discretizeSelective(x.u, x.delta, x.A, x.B);
    assertNoLeak(() => mamba.readOut(d.Abar, x.C, x.u, x.D), "readOut");
    tf.dispose([wy, wl, d.Abar, d.BbarU, ...xs]);
  });

  it("rejects bad arguments with errors naming them", () => {
    const x = ssmInputs({ b: 2, d: 3, n: 4, l: 5 }, 170);
    for (const fn of ["selectiveSSMLoop", "selectiveSSMParallel"]) {
      assert.throws(
        () => mamba[fn](x.u, x.delta, x.A, x.C.slice([0, 0, 0], [2, 4, 4]), x.C),
        new RegExp(`${fn}: B must have shape \\(b, n, l\\) = \\(2, 4, 5\\), got \\(2, 4, 4\\)`),
      );
      assert.throws(
        () => mamba[fn](x.u, x.delta, tf.zeros([2, 4]), x.B, x.C),
        new RegExp(`${fn}: A must have shape \\(d, n\\) = \\(3, 4\\), got \\(2, 4\\)`),
      );
      assert.throws(
        () => mamba[fn](x.u, x.delta, x.A, x.B, x.C, tf.zeros([4])),
        new RegExp(`${fn}: D must have shape \\(d\\) = \\(3\\), got \\(4\\)`),
      );
      assert.throws(
        () => mamba[fn](tf.zeros([2, 3]), x.delta, x.A, x.B, x.C),
        new RegExp(`${fn}: u must be a rank-3 tensor \\(b, d, l\\), got shape \\(2, 3\\)`),
      );
    }
    assert.throws(
      // @ts-expect-error -- deliberately wrong: an unknown method
      () => mamba.selectiveSSMParallel(x.u, x.delta, x.A, x.B, x.C, x.D, { method: "zigzag" }),
      /linearScan: method must be one of/,
    );
    assert.throws(
      () => mamba.readOut(tf.zeros([2, 3, 4]), x.C, x.u),
      /readOut: h must be a tf.Tensor of shape \(b, d, n, l\), got \(2, 3, 4\)/,
    );
    assert.throws(
      () => mamba.readOut(tf.zeros([2, 3, 4, 5]), x.u, x.u),
      /readOut: C must have shape \(b, n, l\) = \(2, 4, 5\), got \(2, 3, 5\)/,
    );
    tf.dispose(Object.values(x));
  });
});

describe("mamba scans: zohDecaySurface", () => {
  it("gives exp(Δ·A) on the grid, rows by Δ and columns by A", () => {
    const s = mamba.zohDecaySurface([-1, -0.5, 0], [0.1, 1, 2]);
    assert.equal(s.length, 3);
    s.forEach((row, i) => row.forEach((v, j) => assert.equal(v, Math.exp([0.1, 1, 2][i] * [-1, -0.5, 0][j]))));
    assert.throws(() => mamba.zohDecaySurface([], [1]), /zohDecaySurface: As must be a nonempty array of finite numbers, got \[\]/);
    assert.throws(() => mamba.zohDecaySurface([1], [NaN]), /zohDecaySurface: deltas must be a nonempty array of finite numbers/);
  });
});

// ---- WebGPU (read back with await, never dataSync) ------------------------------------------------------

describeWebGPU("mamba scans on WebGPU", function () {
  it("cumsumBlocked and every linear scan = float64 loops ((2, 3, 37), with h0; atol 1e-4, rtol 1e-4)", async () => {
    const x = scanInputs([2, 3, 37], 200);
    assertClose(await mamba.cumsumBlocked(x.tb, 8).data(), cumsumRows64(x.b, 37), 1e-4, 1e-4, "cumsumBlocked");
    const want = linearScan64(x.a, x.b, 37, x.h0);
    for (const method of METHODS) {
      const before = tf.memory().numTensors;
      const h = mamba.linearScan(x.ta, x.tb, { method, chunk: 8, h0: x.th0 });
      assertClose(await h.data(), want, 1e-4, 1e-4, method);
      h.dispose();
      assert.equal(tf.memory().numTensors, before, `${method} leaked`);
    }
    disposeInputs(x);
  });

  it("selective SSM (loop and every parallel scan): forward and gradients = the fused WGSL kernel (b=2 d=3 n=4 l=7)", async () => {
    await checkSSMAgainstFused({ b: 2, d: 3, n: 4, l: 7 }, 210);
  });
});

// ---- The benchmark command ---------------------------------------------------------------------------------

describe("bench-scans --quick --json", function () {
  this.timeout(120000);
  const ROOT = path.resolve(__dirname, "..");
  const BENCH = path.join(ROOT, "dist", "cli", "bench-scans.js");
  const run = (args) => spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: "utf8" });

  it("times every variant, prints the table and writes the JSON (timings are not asserted)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-scans-"));
    try {
      const file = path.join(dir, "scans.json");
      const r = run(["--quick", "--backend", "wasm", "--json", file]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /variant\s+fwd ms\s+fwd\+bwd ms/);
      const out = JSON.parse(fs.readFileSync(file, "utf8"));
      assert.equal(out.backend, "wasm");
      assert.equal(out.quick, true);
      for (const k of ["b", "d", "n", "l"]) assert.ok(Number.isInteger(out.sizes[k]) && out.sizes[k] > 0, `sizes.${k}`);
      const names = out.results.map((e) => e.variant);
      assert.deepEqual(names, ["sequential loop", "hillis-steele", "blelloch", "chunked", "fused kernel"]);
      for (const e of out.results) {
        for (const key of ["fwd_ms", "fwd_bwd_ms"]) assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${e.variant} ${key}: ${e[key]}`);
        for (const key of ["fwd_vs_fused", "fwd_bwd_vs_fused"])
          assert.ok(Number.isFinite(e[key]) && e[key] > 0, `${e.variant} ${key}: ${e[key]}`);
        assert.ok(
          Number.isInteger(e.reps.fwd) && e.reps.fwd >= 1 && Number.isInteger(e.reps.fwd_bwd) && e.reps.fwd_bwd >= 1,
          `${e.variant} reps`,
        );
      }
      assert.equal(out.results[4].fwd_vs_fused, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses bad flags with exit status 2 and the usage", () => {
    /** @type {[args: string[], message: RegExp][]} */
    const refused = [
      [["--frobnicate"], /bench-scans: unknown flag --frobnicate/],
      [["--backend", "tpu"], /bench-scans: --backend must be one of cpu, wasm, webgpu, got "tpu"/],
      [["--json"], /bench-scans: --json needs a value/],
    ];
    for (const [args, message] of refused) {
      const r = run(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: node dist\/cli\/bench-scans\.js/);
    }
  });
});
