// Part 1: the SSM as a recurrence and as a convolution, and the FFT convolution against the direct one.
const { forEachBackend, assertClose, assertNoLeak, randn, tf, lib, assert } = require("./helpers");

forEachBackend("Part 1: state space models", () => {
  it("CNN = RNN: scanSSM outputs equal kConv ⊛ u (N=4, L=16; float32, atol 1e-5, rtol 1e-4)", () => {
    tf.tidy(() => {
      const { A, B, C } = lib.randomSSM(4, 7);
      const L = 16;
      const { Ab, Bb, Cb } = lib.discretize(A, B, C, 1 / L);
      const u = tf.tensor1d(randn(L, 1));
      const rnn = lib.scanSSM(Ab, Bb, Cb, u.reshape([L, 1])).y.reshape([L]);
      const K = lib.kConv(Ab, Bb, Cb, L);
      for (const method of /** @type {const} */ (["fft", "direct"])) {
        assertClose(lib.causalConvolution(u, K, method).dataSync(), rnn.dataSync(), 1e-5, 1e-4, `CNN (${method}) vs RNN`);
      }
    });
  });

  it("the convolution is causal and not time-reversed: an impulse returns the kernel itself", () => {
    tf.tidy(() => {
      const K = tf.tensor1d([1, 2, 3, 4, 5]);
      const impulse = tf.tensor1d([1, 0, 0, 0, 0]);
      for (const method of /** @type {const} */ (["fft", "direct"])) {
        assertClose(lib.causalConvolution(impulse, K, method).dataSync(), [1, 2, 3, 4, 5], 1e-6, 0, method);
        // a delayed impulse shifts the kernel right and never reaches back in time
        assertClose(lib.causalConvolution(tf.tensor1d([0, 0, 1, 0, 0]), K, method).dataSync(), [0, 0, 1, 2, 3], 1e-6, 0, method);
      }
    });
  });

  for (const [b, h, L] of [
    [1, 1, 1],
    [2, 3, 3],
    [1, 2, 64],
    [3, 2, 784],
    [1, 1, 1024],
  ]) {
    it(`FFT conv = direct conv, u (${b}, ${h}, ${L}) with k (${h}, ${L}) (float32: atol 1e-4, rtol 1e-4)`, () => {
      tf.tidy(() => {
        const u = tf.tensor3d(randn(b * h * L, L + b), [b, h, L]);
        const k = tf.tensor2d(
          randn(h * L, L + 1).map((x, i) => x * Math.exp(-(i % L) / 50)),
          [h, L],
        );
        const fft = lib.causalConvolution(u, k, "fft");
        const direct = lib.causalConvolution(u, k, "direct");
        assertClose(fft.dataSync(), direct.dataSync(), 1e-4, 1e-4, "fft vs direct");
      });
    });
  }

  it("FFT conv gradients equal the direct conv's (tf.grad) and central finite differences", () => {
    const [b, h, L] = [2, 3, 37];
    const u = tf.tensor3d(randn(b * h * L, 11), [b, h, L]);
    const k = tf.tensor2d(randn(h * L, 12), [h, L]);
    const w = tf.tensor3d(randn(b * h * L, 13), [b, h, L]); // loss = Σ w·y
    const loss = (method) => (uu, kk) => tf.sum(tf.mul(w, lib.causalConvolution(uu, kk, method)));
    const [duF, dkF] = tf.grads(loss("fft"))([u, k]);
    const [duD, dkD] = tf.grads(loss("direct"))([u, k]);
    assertClose(duF.dataSync(), duD.dataSync(), 1e-4, 1e-4, "du");
    assertClose(dkF.dataSync(), dkD.dataSync(), 1e-4, 1e-4, "dk");
    // Directional finite difference along a random direction (float32: relative 1e-2).
    const d = tf.tensor2d(randn(h * L, 14), [h, L]);
    const eps = 1e-2;
    const f = (s) => loss("fft")(u, tf.add(k, tf.mul(d, s))).dataSync()[0];
    const fd = (f(eps) - f(-eps)) / (2 * eps);
    const analytic = tf.sum(tf.mul(dkF, d)).dataSync()[0];
    assertClose([analytic], [fd], 1e-3, 1e-2, "dk · d vs finite difference");
    tf.dispose([u, k, w, duF, dkF, duD, dkD, d]);
  });

  it("discretize gives Ā = (I − Δ/2 A)⁻¹(I + Δ/2 A) with a differentiable inverse (gradient vs finite differences)", () => {
    const { A, B, C } = lib.randomSSM(3, 3);
    const loss = (a) => tf.sum(lib.discretize(a, B, C, 0.1).Ab);
    const g = tf.grad(loss)(A);
    const d = tf.tensor2d(randn(9, 5), [3, 3]);
    const eps = 1e-2;
    const f = (s) => loss(tf.add(A, tf.mul(d, s))).dataSync()[0];
    assertClose([tf.sum(tf.mul(g, d)).dataSync()[0]], [(f(eps) - f(-eps)) / (2 * eps)], 1e-3, 1e-2, "d loss/dA · d");
    tf.dispose([A, B, C, g, d]);
  });

  it("inv: A · inv(A) = I for a batch, and its gradient matches finite differences", () => {
    tf.tidy(() => {
      const a = tf.add(tf.tensor3d(randn(2 * 4 * 4, 8), [2, 4, 4]), tf.mul(tf.eye(4).expandDims(0), 3));
      assertClose(tf.matMul(a, lib.linalg.inv(a)).dataSync(), tf.tile(tf.eye(4).expandDims(0), [2, 1, 1]).dataSync(), 1e-5, 0, "A A⁻¹");
      const w = tf.tensor3d(randn(32, 9), [2, 4, 4]);
      const loss = (x) => tf.sum(tf.mul(w, lib.linalg.inv(x)));
      const g = tf.grad(loss)(a);
      const d = tf.tensor3d(randn(32, 10), [2, 4, 4]);
      const eps = 1e-2;
      const f = (s) => loss(tf.add(a, tf.mul(d, s))).dataSync()[0];
      assertClose([tf.sum(tf.mul(g, d)).dataSync()[0]], [(f(eps) - f(-eps)) / (2 * eps)], 1e-3, 1e-2, "d/dA");
    });
  });

  it("the mass–spring example: the mass starts at rest, moves when pushed, and stays bounded", async () => {
    const { t, u, y } = await lib.exampleSSM(100);
    assert.equal(t.length, 100);
    t.forEach((tk, k) => assert.equal(tk, k / 100, `t[${k}] is k/L seconds`));
    u.forEach((f, k) => assert.equal(f, lib.exampleForce(k / 100), `u[${k}] is the force at t = k/L`));
    assert.equal(y[0], 0, "position starts at 0 (force is 0 at t = 0)");
    assert.ok(u.some((f) => f > 0.5) && u.every((f) => f === 0 || f > 0.5), "force is the cut sine");
    assert.ok(Math.max(...y.map(Math.abs)) > 1e-3, "the mass moves");
    assert.ok(y.every(Number.isFinite) && Math.max(...y.map(Math.abs)) < 1, "the damped mass stays bounded");
    // The runSSM path equals a hand-written float64 bilinear recurrence.
    const [k, b, m, L] = [40, 5, 1, 100];
    const dt = 1 / L;
    // (I − dt/2 A) x' = (I + dt/2 A) x + dt B u, A = [[0, 1], [−k/m, −b/m]]
    const M = [
      [1, -dt / 2],
      [((dt / 2) * k) / m, 1 + ((dt / 2) * b) / m],
    ];
    const det = M[0][0] * M[1][1] - M[0][1] * M[1][0];
    let x = [0, 0];
    const ref = [];
    for (let i = 0; i < L; i++) {
      const r0 = x[0] + (dt / 2) * x[1];
      const r1 = x[1] + (dt / 2) * ((-k / m) * x[0] - (b / m) * x[1]) + (dt * u[i]) / m;
      x = [(M[1][1] * r0 - M[0][1] * r1) / det, (-M[1][0] * r0 + M[0][0] * r1) / det];
      ref.push(x[0]);
    }
    assertClose(y, ref, 1e-5, 1e-3, "runSSM vs float64 recurrence");
  });

  it("leaves no tensors behind", async () => {
    const before = tf.memory().numTensors;
    await lib.exampleSSM(20);
    assert.equal(tf.memory().numTensors, before, "exampleSSM leaked");
    const { A, B, C } = lib.randomSSM(4, 1);
    const u = tf.tensor1d(randn(16, 2));
    assertNoLeak(() => lib.discretize(A, B, C, 0.1), "discretize");
    const { Ab, Bb, Cb } = lib.discretize(A, B, C, 0.1);
    const u2 = u.as2D(16, 1);
    assertNoLeak(() => lib.scanSSM(Ab, Bb, Cb, u2), "scanSSM");
    assertNoLeak(() => lib.runSSM(A, B, C, u), "runSSM");
    assertNoLeak(() => lib.kConv(Ab, Bb, Cb, 16), "kConv");
    const K = lib.kConv(Ab, Bb, Cb, 16);
    assertNoLeak(() => lib.causalConvolution(u, K, "fft"), "causalConvolution fft");
    assertNoLeak(() => lib.causalConvolution(u, K, "direct"), "causalConvolution direct");
    assertNoLeak(() => tf.grads((uu, kk) => tf.sum(lib.causalConvolution(uu, kk)))([u, K]), "causalConvolution gradient");
    tf.dispose([A, B, C, u, u2, Ab, Bb, Cb, K]);
  });

  it("bad input gets an error naming the argument", async () => {
    const { A, B, C } = lib.randomSSM(3, 1);
    assert.throws(() => lib.discretize(A, B, C, 0), /discretize: step must be a finite number > 0, got 0/);
    assert.throws(() => lib.discretize(A, B, C, -1), /step must be a finite number > 0, got -1/);
    assert.throws(() => lib.discretize(A, B, C, NaN), /step must be a finite number > 0, got NaN/);
    assert.throws(() => lib.discretize(A, tf.zeros([2, 1]), C, 0.1), /discretize: B must have shape \(3, 1\)/);
    assert.throws(() => lib.randomSSM(0), /randomSSM: N must be a positive integer, got 0/);
    assert.throws(() => lib.kConv(A, B, C, 0), /kConv: L must be a positive integer, got 0/);
    assert.throws(() => lib.scanSSM(A, B, C, tf.zeros([5, 2])), /scanSSM: u must have shape \(any, 1\)/);
    assert.throws(() => lib.causalConvolution(tf.zeros([2, 5]), tf.zeros([4])), /share their last \(length\) axis/);
    assert.throws(() => lib.causalConvolution(tf.zeros([2, 5]), tf.zeros([3, 5])), /must match the trailing axes of u/);
    // @ts-expect-error -- deliberately wrong: an unknown method
    assert.throws(() => lib.causalConvolution(tf.zeros([5]), tf.zeros([5]), "loop"), /method must be one of "fft", "direct", got "loop"/);
    await assert.rejects(() => lib.exampleSSM(-3), /exampleSSM: L must be a positive integer/);
    tf.dispose([A, B, C]);
  });
});
