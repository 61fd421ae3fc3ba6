/**
 * Part 2 of The Annotated S4: computing the SSM convolution kernel fast.
 *
 * The length-L kernel K̄ is read off its generating function K̂(z) = Σ_k K̄_k z^k at the L roots of
 * unity by an inverse DFT. For a diagonal-plus-low-rank Ā the generating function is a handful of
 * Cauchy sums (Woodbury identity), so no N×N matrix power is ever formed.
 *
 * Float64 (`CMatrix`/`CVector`): the walkthrough's checks (`kGenSimple`, `kGenInverse`,
 * `convFromGen`, `discreteDPLR`). Float32 tensors, differentiable: `cauchyDot`, `kGenDPLR`,
 * `kernelDPLR` — the training path.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "./complex";
import { CTensor } from "./complex";
import { CMatrix, CVector, addScaled, inverse, matmul, matrixPower, scale, solve } from "./linalg";
import { dft } from "./fft";
import { irdft } from "./kernels/inverse-dft";
import { cauchyBilinear } from "./kernels/cauchy";
import { dplrSpectrum, hasDPLRSpectrumKernels } from "./kernels/dplr-spectrum";
import { checkFiniteArray, checkPositive, checkPositiveInt } from "./checks";
import { formatShape } from "./shape-format";

/** A complex number. */
export interface Complex {
  re: number;
  im: number;
}

/** A generating function: z ↦ K̂(z). */
export type GeneratingFunction = (z: Complex) => Complex;

function checkDiscrete(fn: string, Ab: CMatrix, Bb: CVector, Cb: CVector): number {
  const N = Ab.rows;
  if (Ab.cols !== N) throw new Error(`${fn}: Ab must be square, got (${Ab.rows}, ${Ab.cols})`);
  if (Bb.re.length !== N) throw new Error(`${fn}: Bb must have length N = ${N}, got ${Bb.re.length}`);
  if (Cb.re.length !== N) throw new Error(`${fn}: Cb must have length N = ${N}, got ${Cb.re.length}`);
  return N;
}

/** The dense kernel K̄_k = C̄ Ā^k B̄, k < L, of a complex discrete SSM, in float64: (L) complex. */
export function kConvDense(Ab: CMatrix, Bb: CVector, Cb: CVector, L: number): CVector {
  const N = checkDiscrete("kConvDense", Ab, Bb, Cb);
  checkPositiveInt("kConvDense: L", L);
  const K = { re: new Float64Array(L), im: new Float64Array(L) };
  let x = CMatrix.column(Bb);
  for (let k = 0; k < L; k++) {
    for (let n = 0; n < N; n++) {
      K.re[k] += Cb.re[n] * x.re[n] - Cb.im[n] * x.im[n];
      K.im[k] += Cb.re[n] * x.im[n] + Cb.im[n] * x.re[n];
    }
    x = matmul(Ab, x);
  }
  return K;
}

/** Evaluates the polynomial Σ_k K_k z^k (Horner). */
function polynomial(K: CVector, z: Complex): Complex {
  let re = 0,
    im = 0;
  for (let k = K.re.length - 1; k >= 0; k--) {
    const r = re * z.re - im * z.im + K.re[k];
    im = re * z.im + im * z.re + K.im[k];
    re = r;
  }
  return { re, im };
}

/** The truncated generating function of the dense kernel: z ↦ Σ_{k<L} K̄_k z^k. */
export function kGenSimple(Ab: CMatrix, Bb: CVector, Cb: CVector, L: number): GeneratingFunction {
  const K = kConvDense(Ab, Bb, Cb, L);
  return (z) => polynomial(K, z);
}

/** The L roots of unity Ω_k = e^{−2πi k/L} at which generating functions are evaluated. */
export function rootsOfUnity(L: number): CVector {
  checkPositiveInt("rootsOfUnity: L", L);
  return {
    re: Float64Array.from({ length: L }, (_, k) => Math.cos((2 * Math.PI * k) / L)),
    im: Float64Array.from({ length: L }, (_, k) => -Math.sin((2 * Math.PI * k) / L)),
  };
}

/** Recovers the real kernel from a generating function: K = Re(IDFT(K̂(Ω_k))): (L). */
export function convFromGen(gen: GeneratingFunction, L: number): Float64Array {
  const omega = rootsOfUnity(L);
  const re = new Float64Array(L),
    im = new Float64Array(L);
  for (let k = 0; k < L; k++) {
    const g = gen({ re: omega.re[k], im: omega.im[k] });
    re[k] = g.re;
    im[k] = g.im;
  }
  return dft(re, im, true).re.map((x) => x / L);
}

/**
 * The generating function in closed form. At the roots of unity z^L = 1, so the geometric series
 * sums to K̂(z) = C̄ (I − Ā^L) (I − Ā z)⁻¹ B̄: one solve per point instead of L matrix powers.
 */
export function kGenInverse(Ab: CMatrix, Bb: CVector, Cb: CVector, L: number): GeneratingFunction {
  const N = checkDiscrete("kGenInverse", Ab, Bb, Cb);
  checkPositiveInt("kGenInverse: L", L);
  const I = CMatrix.eye(N);
  const Ct = matmul(new CMatrix(1, N, Float64Array.from(Cb.re), Float64Array.from(Cb.im)), addScaled(I, matrixPower(Ab, L), -1));
  const B = CMatrix.column(Bb);
  return (z) => {
    const AbZ = new CMatrix(
      N,
      N,
      Ab.re.map((a, i) => a * z.re - Ab.im[i] * z.im),
      Ab.re.map((a, i) => a * z.im + Ab.im[i] * z.re),
    );
    const out = matmul(Ct, solve(addScaled(I, AbZ, -1), B));
    return { re: out.re[0], im: out.im[0] };
  };
}

// ---- Differentiable Cauchy / DPLR kernels (float32 tensors) -----------------------------------

/**
 * The Cauchy sum Σ_n v_n / (ω_l − λ_n): v, λ: (..., N) and ω: (L) → (..., L).
 * The core of the diagonal case (Ā = Λ): K̂(ω) = Σ_n C̃_n B_n / (ω − Λ_n) up to the bilinear map.
 */
export function cauchyDot(v: CTensor, omega: CTensor, lambda: CTensor): CTensor {
  return tf.tidy(() => {
    const diff = cx.sub(cx.expandDims({ re: tf.reshape(omega.re, [-1]), im: tf.reshape(omega.im, [-1]) }, 0), cx.expandDims(lambda, -1)); // (..., N, L)
    return cx.sum(cx.mul(cx.expandDims(v, -1), cx.reciprocal(diff)), -2);
  });
}

/** DPLR parameters, each (..., N) complex: Ā's continuous form is A = diag(Λ) − P Qᴴ. */
export type DPLRParams = {
  Lambda: CTensor;
  P: CTensor;
  Q: CTensor;
  B: CTensor;
  /** C̃ = C (I − Ā^L), folded in once at initialization (the walkthrough's "C tilde"). */
  C: CTensor;
};

function checkDPLRTensors(fn: string, p: DPLRParams): number[] {
  const shape = p.Lambda.re.shape;
  for (const [name, t] of Object.entries(p) as [string, CTensor][]) {
    for (const part of ["re", "im"] as const) {
      if (t[part].shape.join() !== shape.join()) {
        throw new Error(`${fn}: ${name}.${part} must have the shape of Lambda ${formatShape(shape)}, got ${formatShape(t[part].shape)}`);
      }
    }
  }
  if (shape.length < 1 || shape[shape.length - 1] < 1)
    throw new Error(`${fn}: Lambda must have shape (..., N) with N ≥ 1, got ${formatShape(shape)}`);
  return shape;
}

/** step as a tensor (H) for H = the product of the leading axes; a number must be > 0. */
function stepPerRow(fn: string, step: number | tf.Tensor, lead: number[]): tf.Tensor {
  const H = lead.reduce((a, b) => a * b, 1);
  if (typeof step === "number") {
    checkPositive(`${fn}: step`, step);
    return tf.fill([H], step);
  }
  if (step.size !== 1 && step.shape.join() !== lead.join()) {
    throw new Error(
      `${fn}: step must be a number, a scalar, or have the leading shape ${formatShape(lead)} of Lambda, got ${formatShape(step.shape)}`,
    );
  }
  if (step.size === 1) return tf.mul(tf.ones([H]), tf.reshape(step, []));
  return step.rank === 1 ? step : tf.reshape(step, [H]);
}

/**
 * The DPLR generating function after the bilinear transform, evaluated at points o: (L) complex.
 * Woodbury turns the inverse of (diagonal − low rank) into four Cauchy sums k_ab (a, b ∈ {C̃, Q}
 * × {B, P}), and K̂(o) = c(o)·[k00 − k01 (1 + k11)⁻¹ k10] with g(o) = (2/Δ)(1 − o)/(1 + o) and
 * c(o) = 2/(1 + o).
 *
 * The pole: at o = −1 (k = L/2 for even L), g and c are infinite. We clear it on purpose:
 * c(o)/(g(o) − λ) = 2 / ((2/Δ)(1 − o) − λ(1 + o)), finite everywhere, and k_ab·(1 + o)/2 uses the
 * same term. At o = −1 the value is exactly the limit (Δ/2)·Σ C̃̄_n B_n, with no rounding trick.
 * The four sums are one call of the fused `cauchyBilinear` op.
 */
export function kGenDPLR(params: DPLRParams, step: number | tf.Tensor): (o: CTensor) => CTensor {
  const shape = checkDPLRTensors("kGenDPLR", params);
  const lead = shape.slice(0, -1);
  const N = shape[shape.length - 1];
  if (typeof step === "number") checkPositive("kGenDPLR: step", step);
  return (o) =>
    tf.tidy(() => {
      const { Lambda, P, Q, B, C } = params;
      const rows = (t: tf.Tensor) => tf.reshape(t, [-1, N]); // (..., N) → (H, N)
      // The four weight vectors, stacked: (H, 4, N)
      const Cc = cx.conj(C),
        Qc = cx.conj(Q);
      const terms = [cx.mul(Cc, B), cx.mul(Cc, P), cx.mul(Qc, B), cx.mul(Qc, P)];
      const V: CTensor = {
        re: tf.stack(
          terms.map((t) => rows(t.re)),
          1,
        ),
        im: tf.stack(
          terms.map((t) => rows(t.im)),
          1,
        ),
      };
      const S = cauchyBilinear({ re: rows(Lambda.re), im: rows(Lambda.im) }, V, stepPerRow("kGenDPLR", step, lead), o); // (H, 4, L)
      const L = o.re.shape[0];
      // unstack, not gather: gather's gradient needs UnsortedSegmentSum, which wasm lacks
      const [re4, im4] = [tf.unstack(S.re, 1), tf.unstack(S.im, 1)];
      const part = (i: number): CTensor => ({ re: re4[i], im: im4[i] });
      const half = cx.scaleBy({ re: tf.add(1, o.re), im: o.im }, 0.5); // (1 + o)/2
      const k10 = cx.mul(part(2), half); // (1 + o)/2 · c·k10 = k10 itself
      const k11 = cx.mul(part(3), half);
      const denom: CTensor = { re: tf.add(1, k11.re), im: k11.im };
      const out = cx.sub(part(0), cx.div(cx.mul(part(1), k10), denom)); // (H, L)
      return { re: tf.reshape(out.re, [...lead, L]), im: tf.reshape(out.im, [...lead, L]) };
    });
}

/** The first `count` of the L roots of unity as a float32 complex tensor (count). */
function rootsTensor(L: number, count = L): CTensor {
  const w = rootsOfUnity(L);
  return { re: tf.tensor1d(Float32Array.from(w.re.subarray(0, count))), im: tf.tensor1d(Float32Array.from(w.im.subarray(0, count))) };
}

/**
 * The first `count` (default all L) of the L roots of unity interleaved, (count, 2) float32: the
 * points of the fused kernel path. With conjugate pairs the kernel needs ⌊L/2⌋ + 1 of them
 * (`spectrumPoints`).
 */
export function rootsOfUnityPairs(L: number, count = L): tf.Tensor2D {
  checkPositiveInt("rootsOfUnityPairs: L", L);
  if (!Number.isInteger(count) || count < 1 || count > L)
    throw new Error(`rootsOfUnityPairs: count must be a whole number from 1 to L = ${L}, got ${count}`);
  const w = rootsOfUnity(L);
  return tf.tensor2d(
    Float32Array.from({ length: 2 * count }, (_, i) => (i % 2 ? w.im : w.re)[i >> 1]),
    [count, 2],
  );
}

/**
 * The points at which the kernel's generating function is evaluated: all L roots of unity, or
 * with conjugate pairs ⌊L/2⌋ + 1 of them, since then K̂(conj z) = conj K̂(z) gives the rest.
 */
export function spectrumPoints(L: number, conjugatePairs: boolean): number {
  return conjugatePairs ? Math.floor(L / 2) + 1 : L;
}

/**
 * The parameters with every mode's conjugate appended, (..., N/2) → (..., N): the system that
 * a conjugate-pair parameterization stands for. Q stays the same tensor as P when it was.
 */
export function withConjugates(params: DPLRParams): DPLRParams {
  const both = (t: CTensor): CTensor => ({ re: tf.concat([t.re, t.re], -1), im: tf.concat([t.im, tf.neg(t.im)], -1) });
  const P = both(params.P);
  return { Lambda: both(params.Lambda), P, Q: params.Q === params.P ? P : both(params.Q), B: both(params.B), C: both(params.C) };
}

/**
 * A Hermitian spectrum (..., L) from its first ⌊L/2⌋ + 1 values: K̂[L − k] = conj K̂[k].
 */
function hermitianExtend(re: tf.Tensor, im: tf.Tensor, L: number): CTensor {
  const points = re.shape[re.shape.length - 1],
    tail = L - points; // bins points … L − 1 mirror bins tail … 1
  if (tail === 0) return { re, im };
  const mirror = (t: tf.Tensor) => tf.reverse(tf.slice(t, [...t.shape.slice(0, -1).map(() => 0), 1], [...t.shape.slice(0, -1), tail]), -1);
  return { re: tf.concat([re, mirror(re)], -1), im: tf.concat([im, tf.neg(mirror(im))], -1) };
}

/** Options of `kernelDPLR`. */
export interface KernelDPLROptions {
  /**
   * The parameters hold one mode of each conjugate pair, N/2 modes for a state of size N, and the
   * SSM is the real system with those modes and their conjugates (as the official S4 code
   * stores it). Its generating function is Hermitian, so it is evaluated at ⌊L/2⌋ + 1 points
   * instead of L: about half the work.
   */
  conjugatePairs?: boolean;
}

/**
 * The S4 convolution kernel of a DPLR SSM: K̂ at the L roots of unity, then the real part of the
 * inverse DFT. Parameters (..., N) → kernel (..., L). Differentiable in Λ, P, Q, B, C̃ and the step.
 *
 * When Q is P (the S4 case) and the fused kernels exist on the backend, K̂ is the fused
 * dplrSpectrum; otherwise kGenDPLR's tf ops. `roots` (points, 2), from rootsOfUnityPairs(L,
 * spectrumPoints(L, conjugatePairs)), saves making the points on every call (a layer keeps them).
 */
export function kernelDPLR(
  params: DPLRParams,
  step: number | tf.Tensor,
  L: number,
  roots?: tf.Tensor,
  opts: KernelDPLROptions = {},
): tf.Tensor {
  checkPositiveInt("kernelDPLR: L", L);
  const conjugatePairs = opts.conjugatePairs ?? false;
  if (typeof conjugatePairs !== "boolean")
    throw new Error(`kernelDPLR: opts.conjugatePairs must be a boolean, got ${String(conjugatePairs)}`);
  const points = spectrumPoints(L, conjugatePairs);
  if (roots !== undefined && roots.shape.join() !== `${points},2`) {
    throw new Error(
      `kernelDPLR: roots must have shape (${points}, 2)${conjugatePairs ? " (⌊L/2⌋ + 1 points with conjugate pairs)" : ""}, got ${formatShape(roots.shape)}`,
    );
  }
  return tf.tidy(() => {
    checkDPLRTensors("kernelDPLR", params);
    const system = conjugatePairs ? withConjugates(params) : params;
    let spectrum: CTensor; // (..., points)
    const shape = system.Lambda.re.shape;
    const lead = shape.slice(0, -1),
      N = shape[shape.length - 1];
    if (system.Q === system.P && hasDPLRSpectrumKernels()) {
      // (H, N); already so for a layer's parameters, and a reshape would add kernels both ways
      const rows = (t: CTensor): CTensor => (lead.length === 1 ? t : { re: tf.reshape(t.re, [-1, N]), im: tf.reshape(t.im, [-1, N]) });
      const lambda = rows(system.Lambda);
      const both = dplrSpectrum(
        tf.stack([lambda.re, lambda.im], -1),
        rows(system.P),
        rows(system.B),
        rows(system.C),
        stepPerRow("kernelDPLR", step, lead),
        roots ?? rootsOfUnityPairs(L, points),
      ); // (2, H, points)
      const [re, im] = tf.unstack(both);
      spectrum = lead.length === 1 ? { re, im } : { re: tf.reshape(re, [...lead, points]), im: tf.reshape(im, [...lead, points]) };
    } else {
      spectrum = kGenDPLR(system, step)(rootsTensor(L, points));
    }
    const full = conjugatePairs ? hermitianExtend(spectrum.re, spectrum.im, L) : spectrum;
    return irdft(full.re, full.im);
  });
}

// ---- The RNN form of a DPLR SSM (float64) ------------------------------------------------------

function checkDPLRVectors(fn: string, vs: Record<string, CVector>): number {
  const N = vs.Lambda.re.length;
  if (N < 1) throw new Error(`${fn}: Lambda must hold N ≥ 1 entries`);
  for (const [name, v] of Object.entries(vs)) {
    if (v.re.length !== N || v.im.length !== N) throw new Error(`${fn}: ${name} must have length N = ${N}, got ${v.re.length}`);
    checkFiniteArray(`${fn}: ${name}.re`, v.re);
    checkFiniteArray(`${fn}: ${name}.im`, v.im);
  }
  return N;
}

/**
 * The recurrent (RNN) form of a DPLR SSM, in float64: the bilinear Ā = A₁ A₀ with
 * A₀ = (2/Δ) I + A and A₁ = (2/Δ·I − A)⁻¹ computed by Woodbury from the diagonal D = (2/Δ − Λ)⁻¹;
 * B̄ = 2 A₁ B; C̄ = conj(C̃) (I − Ā^L)⁻¹ undoes the C̃ folding so that K̄_k = C̄ Ā^k B̄ (real part).
 */
export function discreteDPLR(
  Lambda: CVector,
  P: CVector,
  Q: CVector,
  B: CVector,
  C: CVector,
  step: number,
  L: number,
): { Ab: CMatrix; Bb: CVector; Cb: CVector } {
  const N = checkDPLRVectors("discreteDPLR", { Lambda, P, Q, B, C });
  checkPositive("discreteDPLR: step", step);
  checkPositiveInt("discreteDPLR: L", L);
  const s = 2 / step;
  const Pc = CMatrix.column(P);
  const QH = CMatrix.column(Q).adjoint(); // (1, N)
  const A = addScaled(CMatrix.diag(Lambda), matmul(Pc, QH), -1);
  const A0 = addScaled(scaleEye(N, s), A);
  // D = diag(1 / (2/Δ − Λ))
  const D = CMatrix.diag(
    divide({ re: new Float64Array(N).fill(1), im: new Float64Array(N) }, { re: Lambda.re.map((x) => s - x), im: Lambda.im.map((x) => -x) }),
  );
  const DP = matmul(D, Pc); // (N, 1)
  const QhD = matmul(QH, D); // (1, N)
  const denom = matmul(QH, DP); // (1, 1): Qᴴ D P
  const f = divide(
    { re: Float64Array.of(1), im: Float64Array.of(0) },
    { re: Float64Array.of(1 + denom.re[0]), im: Float64Array.of(denom.im[0]) },
  );
  const A1 = addScaled(D, matmul(scale(DP, f.re[0], f.im[0]), QhD), -1);
  const Ab = matmul(A1, A0);
  const Bb = matmul(A1, CMatrix.column(B));
  const I = CMatrix.eye(N);
  const Cconj = new CMatrix(
    1,
    N,
    Float64Array.from(C.re),
    C.im.map((x) => -x),
  );
  const Cb = matmul(Cconj, inverse(addScaled(I, matrixPower(Ab, L), -1)));
  return { Ab, Bb: { re: Bb.re.map((x) => 2 * x), im: Bb.im.map((x) => 2 * x) }, Cb: { re: Cb.re, im: Cb.im } };
}

function scaleEye(n: number, s: number): CMatrix {
  const m = CMatrix.eye(n);
  for (let i = 0; i < n; i++) m.re[i * n + i] = s;
  return m;
}

function divide(a: CVector, b: CVector): CVector {
  const re = new Float64Array(a.re.length),
    im = new Float64Array(a.re.length);
  for (let i = 0; i < a.re.length; i++) {
    const d = b.re[i] * b.re[i] + b.im[i] * b.im[i];
    re[i] = (a.re[i] * b.re[i] + a.im[i] * b.im[i]) / d;
    im[i] = (a.im[i] * b.re[i] - a.re[i] * b.im[i]) / d;
  }
  return { re, im };
}

/**
 * Runs a complex discrete SSM as a recurrence over a real input, in float64:
 * x_k = Ā x_{k−1} + B̄ u_k, y_k = Re(C̄ x_k). The RNN side of the CNN = RNN check.
 */
export function scanComplexSSM(Ab: CMatrix, Bb: CVector, Cb: CVector, u: ArrayLike<number>): Float64Array {
  const N = checkDiscrete("scanComplexSSM", Ab, Bb, Cb);
  const y = new Float64Array(u.length);
  let x = new CMatrix(N, 1);
  for (let k = 0; k < u.length; k++) {
    const ax = matmul(Ab, x);
    x = new CMatrix(
      N,
      1,
      ax.re.map((v, n) => v + Bb.re[n] * u[k]),
      ax.im.map((v, n) => v + Bb.im[n] * u[k]),
    );
    let acc = 0;
    for (let n = 0; n < N; n++) acc += Cb.re[n] * x.re[n] - Cb.im[n] * x.im[n];
    y[k] = acc;
  }
  return y;
}
