/**
 * exp, log(1 + y), softplus and sigmoid for the hot loops of the host kernels. V8's Math.exp and
 * Math.log1p are out-of-line calls costing tens of nanoseconds each; these are a table read and a
 * few multiply-adds, with relative errors far under float32 rounding.
 *
 * exp: x = k·ln2/64 + r with k an integer and |r| ≤ ln2/128, so eˣ = 2^(k/64)·eʳ, with 2^(k/64)
 * read from a table and eʳ from a cubic Taylor polynomial (relative error below 4e-11). The table
 * covers EXP_MIN < x < EXP_MAX (eˣ from float32's smallest normal number to about 1e9); `inTable`
 * tests a whole row of exponents against that range at once, and callers use Math.exp for rows
 * that leave it (or hold NaN).
 */

const STEPS = 64;
const INV_STEP = STEPS / Math.LN2;
const STEP = Math.LN2 / STEPS;
// Adding then subtracting 1.5·2⁵² rounds a double to the nearest integer, faster than Math.round.
const ROUND = 6755399441055744.0;
const K_MIN = -126 * STEPS;
const K_MAX = 30 * STEPS;
/** 2^(k/64) for k = K_MIN..K_MAX. */
const POW2 = Float64Array.from({ length: K_MAX - K_MIN + 1 }, (_, i) => Math.pow(2, (i + K_MIN) / STEPS));

/** The open interval of arguments `expInRange` accepts (k stays inside the table). */
export const EXP_MIN = (K_MIN + 1) * STEP;
export const EXP_MAX = (K_MAX - 1) * STEP;

/** exp(x) for EXP_MIN < x < EXP_MAX only (no check: callers test a whole row at once). */
export function expInRange(x: number): number {
  const kf = x * INV_STEP + ROUND - ROUND;
  const r = x - kf * STEP;
  return POW2[(kf | 0) - K_MIN] * (1 + r * (1 + r * (0.5 + r * (1 / 6))));
}

/** exp(x) for any x: the table where it applies, Math.exp elsewhere (and for NaN). */
export function fastExp(x: number): number {
  return x > EXP_MIN && x < EXP_MAX ? expInRange(x) : Math.exp(x);
}

/**
 * True when every s·a with lo ≤ a ≤ hi lies where `expInRange` applies. lo and hi are the least
 * and greatest of a row of values (NaN if any is NaN), so one test covers the whole row: s·a lies
 * between s·lo and s·hi. NaN or infinite s fails the test too.
 */
export function inTable(s: number, lo: number, hi: number): boolean {
  const x1 = s * lo,
    x2 = s * hi;
  return x1 > EXP_MIN && x1 < EXP_MAX && x2 > EXP_MIN && x2 < EXP_MAX;
}

// log(1 + y) for 0 ≤ y ≤ 1: y = j/256 + s with |s| ≤ 1/512, so log(1 + y) = log(1 + j/256) + log1p(r)
// with r = s/(1 + j/256), |r| ≤ 1/512, and a degree-4 series for log1p(r) (relative error below 3e-12).
const LOG_STEPS = 256;
const LOG1P_AT = Float64Array.from({ length: LOG_STEPS + 1 }, (_, j) => Math.log1p(j / LOG_STEPS));
const INV_ONE_PLUS = Float64Array.from({ length: LOG_STEPS + 1 }, (_, j) => 1 / (1 + j / LOG_STEPS));

/** log(1 + y) for 0 ≤ y ≤ 1. */
export function log1pUnit(y: number): number {
  const j = (y * LOG_STEPS + 0.5) | 0;
  const r = (y - j * (1 / LOG_STEPS)) * INV_ONE_PLUS[j];
  return LOG1P_AT[j] + r * (1 - r * (0.5 - r * (1 / 3 - r * 0.25)));
}

/** Mamba's softplus: log(1 + eˣ), and x itself above 20 (where the two agree in float32). */
export function softplus(x: number): number {
  if (x > 20) return x;
  // log(1 + eˣ) = max(x, 0) + log(1 + e^(−|x|)), whose log argument lies in [1, 2]; written
  // without a branch on the sign, which random data would mispredict half the time.
  return Math.max(x, 0) + log1pUnit(fastExp(-Math.abs(x)));
}

/** The logistic function 1 / (1 + e^(−x)). */
export function sigmoid(x: number): number {
  return 1 / (1 + fastExp(-x));
}
