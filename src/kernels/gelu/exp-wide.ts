/**
 * eˣ over the whole float64 range without a branch, for the elementwise host kernels (GELU, GLU),
 * whose exponents can fall anywhere: V8's Math.exp is an out-of-line call costing tens of
 * nanoseconds, and a single table of 2^(k/64) covers only a window of exponents (fast-math.ts's
 * ends at 21, which GELU's −2u passes for x below −5.5: inputs of a real S4 training step reach
 * −9, in 40 % of its 16384-element chunks).
 *
 * x = (64n + j)·ln2/64 + r with n, j integers, 0 ≤ j < 64, |r| ≤ ln2/128, so eˣ = 2ⁿ · 2^(j/64) · eʳ:
 * 2ⁿ and 2^(j/64) come from two small tables and eʳ from a cubic Taylor polynomial (relative error
 * below 4e-11, far under float32 rounding). x is clamped to [−745, 709] first: below, eˣ is 0 in
 * float64 anyway; above, the result stays finite (about 8e307) instead of ∞, so that products
 * such as e·s with s = 1/(1 + e) stay defined, while any float32 result they feed is the same.
 */

const STEPS = 64;
const INV_STEP = STEPS / Math.LN2;
const STEP = Math.LN2 / STEPS;
// Adding then subtracting 1.5·2⁵² rounds a double to the nearest integer, faster than Math.round.
const ROUND = 6755399441055744.0;
/** The clamp on x: e^−745 is float64's smallest subnormal, e^709 just under its largest number. */
const X_MIN = -745,
  X_MAX = 709;
/** 2ⁿ for n = N_MIN.., enough for every n that x in [X_MIN, X_MAX] gives. */
const N_MIN = -1076;
const POW2_INT = Float64Array.from({ length: 1024 - N_MIN + 1 }, (_, i) => Math.pow(2, i + N_MIN));
/** 2^(j/64) for j = 0..63. */
const POW2_FRAC = Float64Array.from({ length: STEPS }, (_, j) => Math.pow(2, j / STEPS));

/** eˣ, with x clamped to [−745, 709] (NaN stays NaN). */
export function expWide(x: number): number {
  const c = Math.min(Math.max(x, X_MIN), X_MAX);
  const kf = c * INV_STEP + ROUND - ROUND;
  const r = c - kf * STEP,
    k = kf | 0;
  return POW2_INT[(k >> 6) - N_MIN] * POW2_FRAC[k & 63] * (1 + r * (1 + r * (0.5 + r * (1 / 6))));
}
