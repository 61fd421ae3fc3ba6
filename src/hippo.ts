/**
 * Part 1b: HiPPO. The state of x' = A x + B u with a HiPPO matrix holds the coefficients of the
 * input's history projected onto orthogonal polynomials, so a small state remembers a long past.
 * All float64: these are initializations and references, not training-time code.
 *
 * Matrices (HiPPO paper, Gu et al. 2020, arXiv 2008.07669; same conventions as The Annotated S4):
 * LegS (scaled Legendre) remembers the whole history; LegT (translated Legendre) and FouT
 * (translated Fourier) remember a sliding window. See `hippo` for each pair (A, B).
 */
import { CMatrix, CVector, eigh, matmul } from "./linalg";
import { checkOneOf, checkPositiveInt } from "./checks";

export type HippoMeasure = "legs" | "legt" | "fout";

function realMatrix(N: number, entry: (n: number, k: number) => number): CMatrix {
  const m = new CMatrix(N, N);
  for (let n = 0; n < N; n++) for (let k = 0; k < N; k++) m.re[n * N + k] = entry(n, k);
  return m;
}

/** The HiPPO-LegS matrix A: (N, N), real. */
export function makeHiPPO(N: number): CMatrix {
  checkPositiveInt("makeHiPPO: N", N);
  return realMatrix(N, (n, k) => (n > k ? -Math.sqrt(2 * n + 1) * Math.sqrt(2 * k + 1) : n === k ? -(n + 1) : 0));
}

/**
 * A HiPPO pair (A (N, N), B (N)) for a measure; `window` θ is the memory length of the
 * translated measures (ignored by LegS, which always spans the whole history [0, t]).
 * - "legs": the LegS pair above. Reconstruct with `reconstructLegS`.
 * - "legt": A[n,k] = −(1/θ)√(2n+1)√(2k+1)·(1 if n ≥ k else (−1)^{n−k}), B[n] = √(2n+1)/θ: the
 *   Legendre coefficients of the last θ of the input, f(t − θ + sθ) ≈ Σ x_n √(2n+1) P_n(2s − 1).
 * - "fout": state (c₀, c₁, s₁, c₂, s₂, …), Fourier coefficients of the last θ of the input on the
 *   basis 1, √2 cos(2πfs), √2 sin(2πfs). Sliding the window rotates each (c_f, s_f) pair at
 *   2πf/θ and adds f(t) − f(t − θ) along B = (1, √2, 0, √2, 0, …)/θ. The dropped value f(t − θ)
 *   is not stored, so the standard FouT reads it back from the state (Bᵀx·θ): the rank-one term
 *   −B Bᵀθ. That read-back is only approximate — a truncated Fourier series at the window's edge
 *   sees the jump between f(t − θ) and f(t) — which is one reason FouT remembers worse than LegT.
 */
export function hippo(measure: HippoMeasure, N: number, window = 1): { A: CMatrix; B: CVector } {
  checkOneOf("hippo: measure", measure, ["legs", "legt", "fout"] as const);
  checkPositiveInt("hippo: N", N);
  if (!(window > 0 && Number.isFinite(window))) throw new Error(`hippo: window must be a finite number > 0, got ${window}`);
  const B = { re: new Float64Array(N), im: new Float64Array(N) };
  if (measure === "legs") {
    for (let n = 0; n < N; n++) B.re[n] = Math.sqrt(2 * n + 1);
    return { A: makeHiPPO(N), B };
  }
  if (measure === "legt") {
    for (let n = 0; n < N; n++) B.re[n] = Math.sqrt(2 * n + 1) / window;
    const A = realMatrix(N, (n, k) => -(Math.sqrt(2 * n + 1) * Math.sqrt(2 * k + 1) * (n >= k || (k - n) % 2 === 0 ? 1 : -1)) / window);
    return { A, B };
  }
  const A = new CMatrix(N, N);
  for (let i = 1; i + 1 < N; i += 2) {
    const omega = (2 * Math.PI * ((i + 1) / 2)) / window;
    A.re[i * N + (i + 1)] = omega; // c_f' = +ω s_f
    A.re[(i + 1) * N + i] = -omega; // s_f' = −ω c_f
  }
  for (let n = 0; n < N; n++) B.re[n] = (n === 0 ? 1 : n % 2 === 1 ? Math.SQRT2 : 0) / window;
  for (let n = 0; n < N; n++) for (let k = 0; k < N; k++) A.re[n * N + k] -= B.re[n] * B.re[k] * window;
  return { A, B };
}

/**
 * The normal-plus-low-rank form of LegS: A = S − P Pᵀ with S normal, P[n] = √(n + ½).
 * Returns A = makeHiPPO(N), P, and the HiPPO input vector B[n] = √(2n + 1).
 */
export function makeNPLRHiPPO(N: number): { A: CMatrix; P: CVector; B: CVector } {
  const A = makeHiPPO(N);
  const P = { re: Float64Array.from({ length: N }, (_, n) => Math.sqrt(n + 0.5)), im: new Float64Array(N) };
  const B = { re: Float64Array.from({ length: N }, (_, n) => Math.sqrt(2 * n + 1)), im: new Float64Array(N) };
  return { A, P, B };
}

/**
 * Diagonal plus low rank: A = V (Λ − P̃ P̃ᴴ) Vᴴ with V unitary. S = A + P Pᵀ is −½I plus a
 * skew-symmetric matrix, so −i·S is Hermitian: its eigenvectors V diagonalize S, with
 * Λ = mean(diag S) + i·eig(−iS). P and B are carried into the eigenbasis: P̃ = Vᴴ P, B̃ = Vᴴ B.
 */
export function makeDPLRHiPPO(N: number): { Lambda: CVector; P: CVector; B: CVector; V: CMatrix } {
  const { A, P, B } = makeNPLRHiPPO(N);
  const S = new CMatrix(N, N, Float64Array.from(A.re), new Float64Array(N * N));
  for (let n = 0; n < N; n++) for (let k = 0; k < N; k++) S.re[n * N + k] += P.re[n] * P.re[k];
  let diagMean = 0;
  for (let n = 0; n < N; n++) diagMean += S.re[n * N + n] / N;
  // S = (mean of its diagonal)·I + a skew-symmetric part; −i·(skew part) is Hermitian and
  // purely imaginary since S is real.
  const H = new CMatrix(
    N,
    N,
    new Float64Array(N * N),
    S.re.map((x, i) => (i % (N + 1) === 0 ? 0 : -x)),
  );
  const { values, vectors: V } = eigh(H);
  const Lambda = { re: new Float64Array(N).fill(diagMean), im: Float64Array.from(values) };
  const Vh = V.adjoint();
  const Pt = matmul(Vh, CMatrix.column(P));
  const Bt = matmul(Vh, CMatrix.column(B));
  return { Lambda, P: { re: Pt.re, im: Pt.im }, B: { re: Bt.re, im: Bt.im }, V };
}

// ---- Online function approximation (the Legendre reconstruction demo) --------------------------

/** Legendre polynomials P_0 … P_{N−1} at x ∈ [−1, 1] by the three-term recurrence. */
export function legendre(N: number, x: number): Float64Array {
  const p = new Float64Array(N);
  if (N > 0) p[0] = 1;
  if (N > 1) p[1] = x;
  for (let n = 1; n + 1 < N; n++) p[n + 1] = ((2 * n + 1) * x * p[n] - n * p[n - 1]) / (n + 1);
  return p;
}

/**
 * Compresses a signal f: (L) online with HiPPO-LegS, one step at a time. At step k (time t = k + 1
 * samples) LegS measures the whole history [0, t] uniformly, so its continuous dynamics are
 * x' = (A x + B f)/t; each step is the bilinear discretization with step 1/t. Returns the state
 * after every step: (L, N) as rows.
 */
export function hippoLegSOnline(f: ArrayLike<number>, N: number): Float64Array[] {
  checkPositiveInt("hippoLegSOnline: N", N);
  if (f.length === 0) throw new Error("hippoLegSOnline: f must hold at least one sample");
  const { A, B } = hippo("legs", N);
  const states: Float64Array[] = [];
  let x = new Float64Array(N);
  for (let k = 0; k < f.length; k++) {
    const dt = 1 / (k + 1);
    // (I − dt/2·A) x_new = (I + dt/2·A) x + dt·B·f_k; A is lower triangular: forward substitution.
    const rhs = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      let s = x[n];
      for (let j = 0; j <= n; j++) s += 0.5 * dt * A.re[n * N + j] * x[j];
      rhs[n] = s + dt * B.re[n] * f[k];
    }
    const next = new Float64Array(N);
    for (let n = 0; n < N; n++) {
      let s = rhs[n];
      for (let j = 0; j < n; j++) s += 0.5 * dt * A.re[n * N + j] * next[j];
      next[n] = s / (1 - 0.5 * dt * A.re[n * N + n]);
    }
    x = next;
    states.push(x);
  }
  return states;
}

/**
 * Reads the history back out of a LegS state: f(s) ≈ Σ_n x_n √(2n+1) P_n(2s/t − 1) for s in
 * [0, t]. `points` samples the window evenly; returns the reconstruction at those points.
 */
export function reconstructLegS(state: ArrayLike<number>, points: number): Float64Array {
  checkPositiveInt("reconstructLegS: points", points);
  const N = state.length;
  const out = new Float64Array(points);
  for (let i = 0; i < points; i++) {
    const s = points === 1 ? 1 : i / (points - 1); // fraction of the window, 0 = oldest
    const p = legendre(N, 2 * s - 1);
    let v = 0;
    for (let n = 0; n < N; n++) v += state[n] * Math.sqrt(2 * n + 1) * p[n];
    out[i] = v;
  }
  return out;
}
