// Part 1b: HiPPO matrices and online function approximation (float64).
const { assertClose, lib, assert } = require("./helpers");

const signal = (t) => Math.sin(2 * Math.PI * 1.3 * t) + 0.5 * Math.cos(5 * t);

/** Runs x' = A x + B f(t) with the bilinear method (step dt) up to time T, in float64. */
function runContinuous({ A, B }, f, T, dt) {
  const N = B.re.length,
    I = lib.linalg.CMatrix.eye(N);
  const BL = lib.linalg.inverse(lib.linalg.addScaled(I, A, -dt / 2));
  const Ab = lib.linalg.matmul(BL, lib.linalg.addScaled(I, A, dt / 2));
  const Bb = lib.linalg.matmul(BL, lib.linalg.scale(lib.linalg.CMatrix.column(B), dt));
  let x = new Float64Array(N);
  for (let k = 1; k <= Math.round(T / dt); k++) {
    const ax = lib.linalg.matmul(Ab, new lib.linalg.CMatrix(N, 1, x)).re;
    x = ax.map((v, n) => v + Bb.re[n] * f(k * dt));
  }
  return x;
}

describe("Part 1b: HiPPO", () => {
  it("Legendre polynomials: P_n(1) = 1, P_2 = (3x² − 1)/2, P_3 = (5x³ − 3x)/2", () => {
    for (const x of [-1, -0.3, 0.2, 1]) {
      const p = lib.legendre(5, x);
      assertClose([p[0], p[1], p[2], p[3]], [1, x, (3 * x * x - 1) / 2, (5 * x ** 3 - 3 * x) / 2], 1e-14, 0, `x=${x}`);
    }
    assert.ok(lib.legendre(40, 1).every((v) => Math.abs(v - 1) < 1e-12));
  });

  it("LegS online: the state after L steps reconstructs the whole history (N=32, L=500: max error < 0.1 away from the ends)", () => {
    const L = 500;
    const f = Array.from({ length: L }, (_, k) => signal((3 * k) / L));
    const states = lib.hippoLegSOnline(f, 32);
    assert.equal(states.length, L);
    const rec = lib.reconstructLegS(states[L - 1], L);
    let worst = 0;
    for (let k = 20; k < L - 20; k++) worst = Math.max(worst, Math.abs(rec[k] - f[k]));
    assert.ok(worst < 0.1, `max reconstruction error ${worst}`);
    // More coefficients remember better.
    const rec8 = lib.reconstructLegS(lib.hippoLegSOnline(f, 8)[L - 1], L);
    let worst8 = 0;
    for (let k = 20; k < L - 20; k++) worst8 = Math.max(worst8, Math.abs(rec8[k] - f[k]));
    assert.ok(worst8 > 2 * worst, `N=8 error ${worst8} should be well above N=32 error ${worst}`);
  });

  it("LegT remembers the last window: f(t − θ + sθ) ≈ Σ x_n √(2n+1) P_n(2s − 1) (N=32, θ=1: error < 0.02; θ=0.5 too)", () => {
    for (const window of [1, 0.5]) {
      const T = 3,
        x = runContinuous(lib.hippo("legt", 32, window), signal, T, 1e-3);
      let worst = 0;
      for (let i = 0; i <= 20; i++) {
        const s = i / 20,
          p = lib.legendre(32, 2 * s - 1);
        const v = x.reduce((acc, xn, n) => acc + xn * Math.sqrt(2 * n + 1) * p[n], 0);
        worst = Math.max(worst, Math.abs(v - signal(T - window + s * window)));
      }
      assert.ok(worst < 0.02, `window ${window}: max error ${worst}`);
    }
  });

  it("FouT: A + B Bᵀ rotates each Fourier pair at 2πf, and with the exact dropped value the state reconstructs the window (error < 0.1)", () => {
    const N = 32,
      { A, B } = lib.hippo("fout", N);
    const R = A.re.map((v, i) => v + B.re[Math.floor(i / N)] * B.re[i % N]);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) assert.ok(Math.abs(R[i * N + j] + R[j * N + i]) < 1e-12, "rotation part is skew");
    assertClose([R[1 * N + 2], R[3 * N + 4]], [2 * Math.PI, 4 * Math.PI], 1e-12, 0, "frequencies 2πf");
    // Forward Euler with the true f(t − 1) instead of the rank-one read-back.
    const h = 1e-4,
      T = 2;
    let c = new Float64Array(N);
    for (let k = 0; k < T / h; k++) {
      const t = k * h,
        drive = signal(t) - (t >= 1 ? signal(t - 1) : 0);
      c = c.map((cn, n) => cn + h * (R.slice(n * N, (n + 1) * N).reduce((acc, r, m) => acc + r * c[m], 0) + B.re[n] * drive));
    }
    let worst = 0;
    for (let i = 1; i < 20; i++) {
      const s = i / 20;
      let v = c[0];
      for (let j = 1; j + 1 < N; j += 2)
        v += Math.SQRT2 * (c[j] * Math.cos(Math.PI * (j + 1) * s) + c[j + 1] * Math.sin(Math.PI * (j + 1) * s));
      worst = Math.max(worst, Math.abs(v - signal(T - 1 + s)));
    }
    assert.ok(worst < 0.1, `max error ${worst}`);
  });

  it("bad input gets an error naming the argument", () => {
    // @ts-expect-error -- deliberately wrong: an unknown measure
    assert.throws(() => lib.hippo("legx", 4), /hippo: measure must be one of "legs", "legt", "fout", got "legx"/);
    assert.throws(() => lib.hippo("legt", 4, 0), /hippo: window must be a finite number > 0, got 0/);
    assert.throws(() => lib.hippoLegSOnline([], 4), /hippoLegSOnline: f must hold at least one sample/);
    assert.throws(() => lib.reconstructLegS([1, 2], 0), /reconstructLegS: points must be a positive integer/);
  });
});
