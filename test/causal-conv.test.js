// The causal convolution and inverse-DFT kernels (host FFT on cpu/wasm, WGSL on WebGPU) against
// their definitions: values, gradients, finite differences, leaks and argument errors.
const { forEachBackend, assertClose, randn, tf, lib, assert, describeWebGPU } = require("./helpers");

// ---- float64 references (the definitions, in plain loops) ---------------------------------------

/** y[r, t] = Σ_{j ≤ t} k[r mod H, j] · u[r, t − j] for rows r of u: (rows, L), k: (H, L). */
function conv64(u, k, L) {
  const rows = u.length / L,
    H = k.length / L;
  const y = new Float64Array(u.length);
  for (let r = 0; r < rows; r++) {
    const h = r % H;
    for (let t = 0; t < L; t++) {
      let acc = 0;
      for (let j = 0; j <= t; j++) acc += k[h * L + j] * u[r * L + t - j];
      y[r * L + t] = acc;
    }
  }
  return y;
}

/** Gradients of Σ w·y: du[r, s] = Σ_{t ≥ s} w[r, t] k[h, t − s], dk[h, j] = Σ_b Σ_{t ≥ j} w[r, t] u[r, t − j]. */
function convGrads64(w, u, k, L) {
  const rows = u.length / L,
    H = k.length / L;
  const du = new Float64Array(u.length),
    dk = new Float64Array(k.length);
  for (let r = 0; r < rows; r++) {
    const h = r % H;
    for (let s = 0; s < L; s++) {
      let a = 0,
        b = 0;
      for (let t = s; t < L; t++) {
        a += w[r * L + t] * k[h * L + t - s];
        b += w[r * L + t] * u[r * L + t - s];
      }
      du[r * L + s] = a;
      dk[h * L + s] += b;
    }
  }
  return { du, dk };
}

/** A decaying random kernel (h, L), like a trained SSM kernel. */
const decaying = (h, L, seed) =>
  tf.tensor2d(
    randn(h * L, seed).map((x, i) => x * Math.exp(-(i % L) / 100)),
    [h, L],
  );

/** HiPPO-LegS kernels of h channels (N states, different random C per channel) through kernelDPLR. */
function hippoKernels(h, N, L, step, seed) {
  const { Lambda, P, B } = lib.makeDPLRHiPPO(N);
  const rows = (v) => Float32Array.from({ length: h * N }, (_, i) => v[i % N]);
  const c = (v) => lib.cx.complex(tf.tensor2d(rows(v.re), [h, N]), tf.tensor2d(rows(v.im), [h, N]));
  const C = lib.cx.complex(tf.tensor2d(randn(h * N, seed), [h, N]), tf.tensor2d(randn(h * N, seed + 1), [h, N]));
  return tf.tidy(() => lib.kernelDPLR({ Lambda: c(Lambda), P: c(P), Q: c(P), B: c(B), C }, step, L));
}

/** The kernel of a discretized HiPPO-LegS SSM (dense A, step 1/L) through kConv: (L). */
function hippoKConv(N, L, seed) {
  return tf.tidy(() => {
    const A = tf.tensor2d(lib.makeHiPPO(N).toNested());
    const B = tf.tensor2d(Array.from({ length: N }, (_, n) => [Math.sqrt(2 * n + 1)]));
    const C = tf.tensor2d([Array.from(randn(N, seed))]);
    const { Ab, Bb, Cb } = lib.discretize(A, B, C, 1 / L);
    return lib.kConv(Ab, Bb, Cb, L);
  });
}

/** Reads a tensor on any backend (WebGPU has no synchronous read in Node). */
const read = async (t) => Float64Array.from(await t.data());

/** Checks causalConv(u, k) and its gradients (loss Σ w·y) against the float64 definition. */
async function checkAgainstDefinition(u, k, atol, rtol, what) {
  const L = u.shape[u.rank - 1];
  const w = tf.tensor(randn(u.size, 99), u.shape);
  const [uv, kv, wv] = await Promise.all([read(u), read(k), read(w)]);
  const y = lib.kernels.causalConv(u, k);
  assertClose(await read(y), conv64(uv, kv, L), atol, rtol, `${what}: y`);
  const [du, dk] = tf.grads((a, b) => tf.sum(tf.mul(w, lib.kernels.causalConv(a, b))))([u, k]);
  const ref = convGrads64(wv, uv, kv, L);
  assertClose(await read(du), ref.du, atol, rtol, `${what}: du`);
  assertClose(await read(dk), ref.dk, atol, rtol, `${what}: dk`);
  tf.dispose([w, y, du, dk]);
}

/** Checks causalConv against directCausalConv (tf ops), values and tf.grads gradients. */
async function checkAgainstDirect(u, k, atol, rtol, what) {
  const w = tf.tensor(randn(u.size, 98), u.shape);
  const loss = (op) => (a, b) => tf.sum(tf.mul(w, op(a, b)));
  const y = lib.kernels.causalConv(u, k),
    yd = lib.kernels.directCausalConv(u, k);
  assertClose(await read(y), await read(yd), atol, rtol, `${what}: y`);
  const g = tf.grads(loss(lib.kernels.causalConv))([u, k]);
  const gd = tf.grads(loss(lib.kernels.directCausalConv))([u, k]);
  assertClose(await read(g[0]), await read(gd[0]), atol, rtol, `${what}: du`);
  assertClose(await read(g[1]), await read(gd[1]), atol, rtol, `${what}: dk`);
  tf.dispose([w, y, yd, ...g, ...gd]);
}

/** Directional central differences of Σ w·causalConv(u, k) along random directions of u and k. */
async function checkFiniteDifferences(b, h, L, atol, rtol) {
  const u = tf.tensor3d(randn(b * h * L, 21), [b, h, L]),
    k = tf.tensor2d(randn(h * L, 22), [h, L]);
  const w = tf.tensor3d(randn(b * h * L, 23), [b, h, L]);
  const du = tf.tensor3d(randn(b * h * L, 24), [b, h, L]),
    dk = tf.tensor2d(randn(h * L, 25), [h, L]);
  const loss = (a, c) => tf.sum(tf.mul(w, lib.kernels.causalConv(a, c)));
  const [gu, gk] = tf.grads(loss)([u, k]);
  const eps = 1e-2;
  const at = async (s, which) => {
    const t = tf.tidy(() => (which === "u" ? loss(tf.add(u, tf.mul(du, s)), k) : loss(u, tf.add(k, tf.mul(dk, s)))));
    const v = (await t.data())[0];
    t.dispose();
    return v;
  };
  for (const [which, g, d] of [
    ["u", gu, du],
    ["k", gk, dk],
  ]) {
    const fd = ((await at(eps, which)) - (await at(-eps, which))) / (2 * eps);
    const dot = tf.sum(tf.mul(g, d));
    assertClose([(await dot.data())[0]], [fd], atol, rtol, `d${which} · direction vs central difference`);
    dot.dispose();
  }
  tf.dispose([u, k, w, du, dk, gu, gk]);
}

/** irdft (the InverseRealDFT kernel) vs the matmul DFT, values and gradients. */
async function checkIrdft(rows, L, atol, rtol) {
  const re = tf.tensor2d(randn(rows * L, L), [rows, L]),
    im = tf.tensor2d(randn(rows * L, L + 1), [rows, L]);
  const w = tf.tensor2d(randn(rows * L, L + 2), [rows, L]);
  const f = (op) => (a, b) => tf.sum(tf.mul(w, op(a, b)));
  const y = lib.kernels.irdft(re, im),
    ym = lib.kernels.matmulIrdft(re, im);
  assertClose(await read(y), await read(ym), atol, rtol, `value L=${L}`);
  const g = tf.grads(f(lib.kernels.irdft))([re, im]);
  const gm = tf.grads(f(lib.kernels.matmulIrdft))([re, im]);
  assertClose(await read(g[0]), await read(gm[0]), atol, rtol, `d re L=${L}`);
  assertClose(await read(g[1]), await read(gm[1]), atol, rtol, `d im L=${L}`);
  tf.dispose([re, im, w, y, ym, ...g, ...gm]);
}

/** numTensors is unchanged around a forward call and around tf.grads (results disposed). */
function checkNoLeaks(u, k) {
  const before = tf.memory().numTensors;
  tf.dispose(lib.kernels.causalConv(u, k));
  assert.equal(tf.memory().numTensors, before, "causalConv forward leaked");
  tf.dispose(tf.grads((a, b) => tf.sum(lib.kernels.causalConv(a, b)))([u, k]));
  assert.equal(tf.memory().numTensors, before, "causalConv gradient leaked");
  tf.dispose(tf.grads((a) => tf.sum(lib.kernels.causalConv(a, k)))([u])); // only du asked for
  assert.equal(tf.memory().numTensors, before, "causalConv gradient (du only) leaked");
  const re = tf.slice(u, [0, 0, 0], [1, 1, -1]);
  const before2 = tf.memory().numTensors;
  tf.dispose(lib.kernels.irdft(re, re));
  assert.equal(tf.memory().numTensors, before2, "irdft forward leaked");
  tf.dispose(tf.grads((a, b) => tf.sum(lib.kernels.irdft(a, b)))([re, re]));
  assert.equal(tf.memory().numTensors, before2, "irdft gradient leaked");
  re.dispose();
}

// Float32 outputs against float64 references: atol 1e-4, rtol 1e-4 throughout (values are O(1–10)).
const TOL = [1e-4, 1e-4];

forEachBackend("causalConv kernel", () => {
  it("is the registered kernel here (not the matmul fallback)", () => {
    assert.ok(tf.getKernel("CausalConv", tf.getBackend()), "CausalConv registered");
    assert.ok(tf.getKernel("CausalConvGrad", tf.getBackend()), "CausalConvGrad registered");
  });

  for (const [b, h, L] of [
    [1, 1, 1],
    [3, 2, 1],
    [1, 1, 3],
    [3, 2, 3],
    [3, 3, 16],
    [1, 1, 784],
    [1, 1, 1024],
  ]) {
    it(`= directCausalConv (tf ops), values and gradients, u (${b}, ${h}, ${L}) (atol 1e-4, rtol 1e-4)`, async () => {
      const u = tf.tensor3d(randn(b * h * L, L + b), [b, h, L]),
        k = decaying(h, L, L + 1);
      await checkAgainstDirect(u, k, ...TOL, `(${b}, ${h}, ${L})`);
      tf.dispose([u, k]);
    });
  }

  for (const [b, h, L] of [
    [1, 1, 784],
    [3, 2, 784],
    [2, 2, 1024],
    [1, 3, 1024],
    [5, 3, 64],
  ]) {
    it(`= the float64 definition, values and gradients, u (${b}, ${h}, ${L}), random k (atol 1e-4, rtol 1e-4)`, async () => {
      const u = tf.tensor3d(randn(b * h * L, 7 * L + b), [b, h, L]),
        k = decaying(h, L, 7 * L + h);
      await checkAgainstDefinition(u, k, ...TOL, `(${b}, ${h}, ${L})`);
      tf.dispose([u, k]);
    });
  }

  it("= the float64 definition with HiPPO kernels: kernelDPLR (h=2, N=16, L=784) and kConv of a discretized LegS SSM (atol 1e-4, rtol 1e-4)", async () => {
    const k = hippoKernels(2, 16, 784, 0.01, 5);
    const u = tf.tensor3d(randn(3 * 2 * 784, 6), [3, 2, 784]);
    await checkAgainstDefinition(u, k, ...TOL, "kernelDPLR");
    const k1 = hippoKConv(8, 256, 7);
    const u1 = tf.tensor2d(randn(2 * 256, 8), [2, 256]); // u (b, l) with k (l)
    await checkAgainstDefinition(u1, k1, ...TOL, "kConv");
    tf.dispose([k, u, k1, u1]);
  });

  it("takes any leading axes: u (l) with k (l), u (2, 2, h, l) with k (h, l) (atol 1e-4, rtol 1e-4)", async () => {
    const u1 = tf.tensor1d(randn(50, 1)),
      k1 = tf.tensor1d(randn(50, 2));
    await checkAgainstDefinition(u1, k1, ...TOL, "rank 1");
    const u4 = tf.tensor4d(randn(2 * 2 * 3 * 40, 3), [2, 2, 3, 40]),
      k4 = decaying(3, 40, 4);
    await checkAgainstDefinition(u4, k4, ...TOL, "rank 4");
    tf.dispose([u1, k1, u4, k4]);
  });

  it("gradients = central finite differences, u (2, 3, 9) (float32, eps 1e-2: atol 1e-3, rtol 1e-3)", async () => {
    await checkFiniteDifferences(2, 3, 9, 1e-3, 1e-3);
  });

  it("leaves no tensors behind (forward, tf.grads, irdft)", () => {
    const u = tf.tensor3d(randn(3 * 2 * 30, 1), [3, 2, 30]),
      k = tf.tensor2d(randn(60, 2), [2, 30]);
    checkNoLeaks(u, k);
    tf.dispose([u, k]);
  });

  it("an empty batch: y and du are empty, dk is zero", () => {
    const u = tf.zeros([0, 2, 5]),
      k = tf.ones([2, 5]);
    const before = tf.memory().numTensors;
    const y = lib.kernels.causalConv(u, k);
    const [du, dk] = tf.grads((a, b) => tf.sum(lib.kernels.causalConv(a, b)))([u, k]);
    assert.deepEqual(
      [y.shape, du.shape, dk.shape],
      [
        [0, 2, 5],
        [0, 2, 5],
        [2, 5],
      ],
    );
    assert.deepEqual(Array.from(dk.dataSync()), new Array(10).fill(0));
    tf.dispose([y, du, dk]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([u, k]);
  });

  it("= the float64 definition at 3 threads (units split unevenly), u (5, 3, 64) and u (7, 1, 50) (atol 1e-4, rtol 1e-4)", async () => {
    const threads = lib.kernels.hostThreads();
    lib.kernels.setHostThreads(3);
    try {
      for (const [b, h, L] of [
        [5, 3, 64],
        [7, 1, 50],
      ]) {
        const u = tf.tensor3d(randn(b * h * L, 5 * L + b), [b, h, L]),
          k = decaying(h, L, 5 * L + h);
        await checkAgainstDefinition(u, k, ...TOL, `(${b}, ${h}, ${L}) at 3 threads`);
        tf.dispose([u, k]);
      }
    } finally {
      lib.kernels.setHostThreads(threads);
    }
  });

  it("bad arguments get an error naming the argument and what was expected", () => {
    const z = (...s) => tf.zeros(s);
    assert.throws(
      () => lib.kernels.causalConv(z(2, 3, 5), z(2, 5)),
      /causalConv: k \(shape \(2, 5\)\) must match the trailing axes of u \(shape \(2, 3, 5\)\)/,
    );
    assert.throws(() => lib.kernels.causalConv(z(5), z(2, 5)), /causalConv: k \(shape \(2, 5\)\) must match the trailing axes of u/);
    assert.throws(() => lib.kernels.causalConv(z(3, 5), tf.scalar(1)), /causalConv: k \(shape \(\)\) must match the trailing axes of u/);
    assert.throws(() => lib.kernels.causalConv(tf.scalar(1), z(1)), /causalConv: u must have at least one axis/);
    assert.throws(() => lib.kernels.causalConv(tf.zeros([2, 5], "int32"), z(5)), /causalConv: u must be float32, got int32/);
    // @ts-expect-error -- deliberately wrong: a plain array instead of a tensor
    assert.throws(() => lib.kernels.causalConv([1, 2], z(2)), /causalConv: u must be a tf.Tensor, got object/);
    assert.throws(
      () => lib.kernels.directCausalConv(z(2, 5), z(4)),
      /directCausalConv: k \(shape \(4\)\) must match the trailing axes of u/,
    );
    assert.throws(() => lib.kernels.irdft(z(2, 5), z(2, 4)), /irdft: re and im must have the same shape, got re \(2, 5\) and im \(2, 4\)/);
    assert.throws(() => lib.kernels.irdft(tf.scalar(1), tf.scalar(1)), /irdft: re must have at least one axis/);
  });
});

forEachBackend("irdft kernel (InverseRealDFT)", () => {
  for (const L of [1, 7, 784, 1024]) {
    it(`= the matmul DFT, values and gradients, (3, ${L}) (atol 1e-5, rtol 1e-4)`, async () => {
      await checkIrdft(3, L, 1e-5, 1e-4);
    });
  }
});

describeWebGPU("causalConv and irdft kernels on WebGPU", function () {
  it("runs the WGSL kernels (registered for webgpu)", () => {
    for (const name of ["CausalConv", "CausalConvGrad", "InverseRealDFT", "InverseRealDFTGrad"]) {
      assert.ok(tf.getKernel(name, "webgpu"), `${name} registered`);
    }
  });

  for (const [b, h, L] of [
    [1, 1, 1],
    [3, 2, 3],
    [3, 3, 37],
    [2, 2, 300],
  ]) {
    it(`= the float64 definition, values and gradients, u (${b}, ${h}, ${L}) (atol 1e-4, rtol 1e-4)`, async () => {
      const u = tf.tensor3d(randn(b * h * L, 3 * L + b), [b, h, L]),
        k = decaying(h, L, 3 * L + h);
      await checkAgainstDefinition(u, k, ...TOL, `(${b}, ${h}, ${L})`);
      tf.dispose([u, k]);
    });
  }

  it("= directCausalConv (tf ops), values and gradients, u (2, 2, 24) (atol 1e-4, rtol 1e-4)", async () => {
    const u = tf.tensor3d(randn(96, 31), [2, 2, 24]),
      k = decaying(2, 24, 32);
    await checkAgainstDirect(u, k, ...TOL, "(2, 2, 24)");
    tf.dispose([u, k]);
  });

  it("takes any leading axes: u (l) with k (l), u (2, 2, h, l) with k (h, l) (atol 1e-4, rtol 1e-4)", async () => {
    const u1 = tf.tensor1d(randn(50, 1)),
      k1 = tf.tensor1d(randn(50, 2));
    await checkAgainstDefinition(u1, k1, ...TOL, "rank 1");
    const u4 = tf.tensor4d(randn(2 * 2 * 3 * 40, 3), [2, 2, 3, 40]),
      k4 = decaying(3, 40, 4);
    await checkAgainstDefinition(u4, k4, ...TOL, "rank 4");
    tf.dispose([u1, k1, u4, k4]);
  });

  it("= the float64 definition with a HiPPO kernel (kernelDPLR h=2, N=16, L=256) (atol 1e-4, rtol 1e-4)", async () => {
    const k = hippoKernels(2, 16, 256, 0.02, 9);
    const u = tf.tensor3d(randn(2 * 2 * 256, 10), [2, 2, 256]);
    await checkAgainstDefinition(u, k, ...TOL, "kernelDPLR");
    tf.dispose([k, u]);
  });

  it("gradients = central finite differences, u (2, 3, 9) (float32, eps 1e-2: atol 1e-3, rtol 1e-3)", async () => {
    await checkFiniteDifferences(2, 3, 9, 1e-3, 1e-3);
  });

  for (const L of [1, 7, 784]) {
    it(`irdft = the matmul DFT, values and gradients, (3, ${L}) (atol 1e-4, rtol 1e-3)`, async () => {
      await checkIrdft(3, L, 1e-4, 1e-3);
    });
  }

  it("leaves no tensors behind (forward, tf.grads, irdft)", () => {
    const u = tf.tensor3d(randn(3 * 2 * 30, 1), [3, 2, 30]),
      k = tf.tensor2d(randn(60, 2), [2, 30]);
    checkNoLeaks(u, k);
    tf.dispose([u, k]);
  });
});
