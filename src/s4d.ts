/**
 * S4D (Gu, Gupta, Goel, Ré 2022, "On the Parameterization and Initialization of Diagonal State
 * Space Models", arXiv 2206.11893): Ā diagonal, so the kernel is a Vandermonde product
 * K̄_l = 2·Re Σ_n C_n B̄_n Ā_n^l — one of each conjugate pair is kept, hence the factor 2.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "./complex";
import { CTensor } from "./complex";
import { CVector } from "./linalg";
import { checkOneOf, checkPositive, checkPositiveInt } from "./checks";
import { recomputedChunks, recomputedOp } from "./recompute-grad";
import { formatShape } from "./shape-format";

export type Discretization = "zoh" | "bilinear";

/**
 * Discretizes a diagonal SSM: returns log Ā (so that Ā^l = exp(l·log Ā)) and B̄, each (..., N).
 * - ZOH: Ā = exp(ΔΛ), B̄ = (exp(ΔΛ) − 1)/Λ · B.
 * - bilinear: Ā = (1 + ΔΛ/2)/(1 − ΔΛ/2), B̄ = Δ/(1 − ΔΛ/2) · B.
 */
export function discretizeDiagonal(Lambda: CTensor, B: CTensor, step: tf.Tensor, method: Discretization): { logAb: CTensor; Bb: CTensor } {
  checkOneOf("discretizeDiagonal: method", method, ["zoh", "bilinear"] as const);
  return tf.tidy(() => {
    const dtL = cx.scaleBy(Lambda, step);
    if (method === "zoh") {
      const Ab = cx.exp(dtL);
      const Bb = cx.mul(cx.div({ re: tf.sub(Ab.re, 1), im: Ab.im }, Lambda), B);
      return { logAb: dtL, Bb };
    }
    const half = cx.scaleBy(dtL, 0.5);
    const den: CTensor = { re: tf.sub(1, half.re), im: tf.neg(half.im) };
    const Ab = cx.div({ re: tf.add(1, half.re), im: half.im }, den);
    const Bb = cx.mul(cx.scaleBy(cx.reciprocal(den), step), B);
    return { logAb: cx.log(Ab), Bb };
  });
}

/**
 * The S4D kernel: Λ, B, C: (..., N) complex, step: number or (...) → K: (..., L), differentiable.
 * Vandermonde: Ā^l = exp(l · log Ā), computed for all l at once.
 */
export function s4dKernel(
  Lambda: CTensor,
  B: CTensor,
  C: CTensor,
  step: number | tf.Tensor,
  L: number,
  method: Discretization = "zoh",
): tf.Tensor {
  checkPositiveInt("s4dKernel: L", L);
  const shape = Lambda.re.shape;
  for (const [name, t] of [
    ["B", B],
    ["C", C],
  ] as const) {
    if (t.re.shape.join() !== shape.join() || t.im.shape.join() !== shape.join()) {
      throw new Error(`s4dKernel: ${name} must have the shape of Lambda ${formatShape(shape)}, got ${formatShape(t.re.shape)}`);
    }
  }
  if (typeof step === "number") checkPositive("s4dKernel: step", step);
  const lead = shape.slice(0, -1);
  return tf.tidy(() => {
    const dt = typeof step === "number" ? tf.scalar(step) : step.size === 1 ? tf.reshape(step, []) : tf.reshape(step, [...lead, 1]);
    const { logAb, Bb } = discretizeDiagonal(Lambda, B, dt, method);
    const w = cx.mul(C, Bb); // (..., N)
    const l = tf.range(0, L, 1, "float32"); // (L)
    if (L <= VANDERMONDE_CHUNK) return vandermonde(logAb.re, logAb.im, w.re, w.im, l);
    return recomputedChunks(vandermondeChunk, [logAb.re, logAb.im, w.re, w.im], [l], VANDERMONDE_CHUNK);
  });
}

/**
 * 2·Re Σ_n w_n Ā_n^l at the powers l given: logAb, w (..., N) complex as parts, l (P) → (..., P).
 * It builds (..., N, P) complex tensors, a dozen of them kept for autodiff (25 MB each for h 128,
 * N 64 and P 784), so longer kernels go through it in recomputed chunks of VANDERMONDE_CHUNK
 * powers: memory then holds one chunk's.
 */
function vandermonde(logRe: tf.Tensor, logIm: tf.Tensor, wRe: tf.Tensor, wIm: tf.Tensor, l: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const powers = cx.exp({ re: tf.mul(tf.expandDims(logRe, -1), l), im: tf.mul(tf.expandDims(logIm, -1), l) }); // (..., N, P)
    const w = cx.expandDims({ re: wRe, im: wIm }, -1); // (..., N, 1)
    return tf.mul(2, cx.sum(cx.mul(w, powers), -2).re);
  });
}

const VANDERMONDE_CHUNK = 128;
const vandermondeChunk = recomputedOp(vandermonde);

/*
 * Both initializations return N modes, one of each conjugate pair of a real state of size 2N
 * (the kernel's 2·Re puts the twins back).
 */

/** S4D-Lin: Λ_n = −½ + iπn — frequencies spaced evenly, like the Fourier basis. */
export function s4dLinInit(N: number): CVector {
  checkPositiveInt("s4dLinInit: N", N);
  return { re: new Float64Array(N).fill(-0.5), im: Float64Array.from({ length: N }, (_, n) => Math.PI * n) };
}

/**
 * S4D-Inv: Λ_n = −½ + i(S/π)(S/(2n+1) − 1) with S = 2N the real state size — an inverse law that
 * approximates the imaginary parts of diagonalized HiPPO-LegS of size S.
 */
export function s4dInvInit(N: number): CVector {
  checkPositiveInt("s4dInvInit: N", N);
  const S = 2 * N;
  return {
    re: new Float64Array(N).fill(-0.5),
    im: Float64Array.from({ length: N }, (_, n) => (S / Math.PI) * (S / (2 * n + 1) - 1)),
  };
}
