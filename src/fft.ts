/**
 * The one FFT of the library, on float64 typed arrays (stock `tf.spectral` has no gradient, no
 * wasm kernel, and takes seconds per batch on the cpu backend).
 *
 * - Powers of two: an in-place radix-4 decimation-in-time transform (one radix-2 stage at the end
 *   when log₂ n is odd) with per-stage twiddle tables. It starts from data already in
 *   bit-reversed order, so callers that fill the input themselves write each sample straight to
 *   its permuted slot and never run a separate permutation pass.
 * - For FFT convolution of zero-padded real rows: `fftZeroPaddedPair` transforms two rows at once
 *   reading them straight from the float32 input, and `ifftHead` returns only the first l
 *   samples, written straight to the output.
 * - Any other length (L = 784 for MNIST): Bluestein's chirp-z, i.e. a circular convolution of
 *   power-of-two length.
 *
 * Plans (tables and scratch) are built once per length and cached.
 */

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** One butterfly stage: radix 4 joins four sub-transforms of length q, radix 2 joins two. */
interface Stage {
  radix: 2 | 4;
  q: number;
  /** Forward twiddles e^{-2πi·jk/(radix·q)}, j = 1 … radix − 1, interleaved per k: (cos, sin) pairs. */
  tw: Float64Array;
  /** The same, conjugated (inverse transform). */
  twInverse: Float64Array;
}

/** Tables of a power-of-two transform. */
export interface Pow2Plan {
  n: number;
  /** rev[i] = i with its log₂ n bits reversed. */
  rev: Uint32Array;
  stages: Stage[];
}

const pow2Plans = new Map<number, Pow2Plan>();

/** The (cached) plan of a power-of-two length n ≥ 1. */
export function pow2Plan(n: number): Pow2Plan {
  let plan = pow2Plans.get(n);
  if (plan) return plan;
  if (!Number.isInteger(n) || n < 1 || n & (n - 1)) throw new Error(`pow2Plan: n must be a power of two ≥ 1, got ${n}`);
  const bits = Math.round(Math.log2(n));
  const rev = new Uint32Array(n);
  for (let i = 1; i < n; i++) rev[i] = (rev[i >> 1] >> 1) | ((i & 1) << (bits - 1));
  const stages: Stage[] = [];
  let q = 1;
  const twiddles = (radix: 2 | 4) => {
    const tw = new Float64Array(2 * (radix - 1) * q);
    for (let k = 0; k < q; k++) {
      for (let j = 1; j < radix; j++) {
        // j·k < radix·q, so the angle is exact enough without reduction
        const a = (-2 * Math.PI * j * k) / (radix * q);
        tw[2 * ((radix - 1) * k + j - 1)] = Math.cos(a);
        tw[2 * ((radix - 1) * k + j - 1) + 1] = Math.sin(a);
      }
    }
    return tw;
  };
  const conj = (tw: Float64Array) => tw.map((v, i) => (i & 1 ? -v : v));
  for (; 4 * q <= n; q *= 4) {
    const tw = twiddles(4);
    stages.push({ radix: 4, q, tw, twInverse: conj(tw) });
  }
  if (q < n) {
    const tw = twiddles(2);
    stages.push({ radix: 2, q, tw, twInverse: conj(tw) });
  }
  plan = { n, rev, stages };
  pow2Plans.set(n, plan);
  return plan;
}

/**
 * In-place unnormalized DFT of length plan.n, X_k = Σ_j x_j e^{∓2πi jk/n} (minus forward, plus
 * when `inverse`), of data given in bit-reversed order: re[rev[j]] = Re x_j. Output in natural
 * order.
 */
export function fftBitReversed(plan: Pow2Plan, re: Float64Array, im: Float64Array, inverse = false): void {
  runStages(plan, re, im, inverse, 0, plan.stages.length);
}

/** Runs stages [from, to) of the plan in place. */
function runStages(plan: Pow2Plan, re: Float64Array, im: Float64Array, inverse: boolean, from: number, to: number): void {
  const n = plan.n,
    stages = plan.stages;
  // s flips the sign of the ±i rotations for the inverse (the twiddle tables are per direction)
  const s = inverse ? -1 : 1;
  for (let i = from; i < to; i++) {
    const { radix, q } = stages[i];
    const tw = inverse ? stages[i].twInverse : stages[i].tw;
    if (radix === 2) radix2(re, im, q, tw);
    else if (q === 1) radix4First(re, im, n, s);
    else radix4(re, im, n, q, tw, s);
  }
}

/**
 * Forward FFT of length n = plan.n of the zero-padded complex signal
 *   z_t = x[o1 + t] + i·x[o2 + t] for t < l,  z_t = 0 for l ≤ t < n,
 * i.e. two real rows of x packed into one transform (o2 < 0: imaginary part zero). Needs
 * l ≤ n/2. The padding is never written: the first stage reads the rows directly (in bit-reversed
 * order its odd slots would hold zeros), so there is no separate fill, permutation or first pass.
 */
export function fftZeroPaddedPair(
  plan: Pow2Plan,
  x: Float32Array,
  o1: number,
  o2: number,
  l: number,
  re: Float64Array,
  im: Float64Array,
): void {
  const n = plan.n,
    rev = plan.rev;
  if (2 * l > n) throw new Error(`fftZeroPaddedPair: l must be at most n/2 = ${n / 2}, got ${l}`);
  if (n < 4) {
    re.fill(0);
    im.fill(0);
    for (let t = 0; t < l; t++) {
      re[rev[t]] = x[o1 + t];
      im[rev[t]] = o2 >= 0 ? x[o2 + t] : 0;
    }
    fftBitReversed(plan, re, im);
    return;
  }
  // First radix-4 stage. Slots o … o + 3 (o = 4j) hold z at s, s + n/2, s + n/4, s + 3n/4 with
  // s = rev[o] < n/4; the 2nd and 4th are padding, and z_s is always data since l > n/4.
  const quarter = n >> 2;
  for (let o = 0; o < n; o += 4) {
    const t = rev[o],
      u = t + quarter;
    const ar = x[o1 + t],
      ai = o2 >= 0 ? x[o2 + t] : 0;
    const cr = u < l ? x[o1 + u] : 0,
      ci = u < l && o2 >= 0 ? x[o2 + u] : 0;
    re[o] = ar + cr;
    im[o] = ai + ci;
    re[o + 2] = ar - cr;
    im[o + 2] = ai - ci;
    re[o + 1] = ar + ci;
    im[o + 1] = ai - cr;
    re[o + 3] = ar - ci;
    im[o + 3] = ai + cr;
  }
  runStages(plan, re, im, false, 1, plan.stages.length);
}

/**
 * Inverse FFT of length n = plan.n of (re, im), given in bit-reversed order (both are used as
 * scratch), keeping only samples t < l ≤ n/2: out[o1 + t] = scale·Re X_t and, if o2 ≥ 0,
 * out[o2 + t] = scale·Im X_t. The last stage computes just those samples and writes them out.
 */
export function ifftHead(
  plan: Pow2Plan,
  re: Float64Array,
  im: Float64Array,
  l: number,
  scale: number,
  out: Float32Array,
  o1: number,
  o2: number,
): void {
  const n = plan.n,
    stages = plan.stages;
  if (2 * l > n) throw new Error(`ifftHead: l must be at most n/2 = ${n / 2}, got ${l}`);
  if (n < 4) {
    fftBitReversed(plan, re, im, true);
    for (let t = 0; t < l; t++) {
      out[o1 + t] = scale * re[t];
      if (o2 >= 0) out[o2 + t] = scale * im[t];
    }
    return;
  }
  const lastStage = stages.length - 1;
  runStages(plan, re, im, true, 0, lastStage);
  const { radix, q, twInverse: tw } = stages[lastStage];
  if (radix === 2) {
    // q = n/2: X_k = a_k + w^k·b_k, needed for k < l only
    for (let k = 0; k < l; k++) {
      const wr = tw[2 * k],
        wi = tw[2 * k + 1];
      const xr = re[k + q],
        xi = im[k + q];
      out[o1 + k] = scale * (re[k] + xr * wr - xi * wi);
      if (o2 >= 0) out[o2 + k] = scale * (im[k] + xr * wi + xi * wr);
    }
    return;
  }
  // radix 4, q = n/4 < l: X_k for every k < q, X_{k+q} while k + q < l (inverse: s = −1).
  // The twiddled legs b, c, d repeat radix4's on purpose: a shared helper returning them through
  // a scratch array measured 23–41 % slower per transform (n = 256 … 4096).
  for (let k = 0; k < q; k++) {
    const w1r = tw[6 * k],
      w1i = tw[6 * k + 1];
    const w2r = tw[6 * k + 2],
      w2i = tw[6 * k + 3];
    const w3r = tw[6 * k + 4],
      w3i = tw[6 * k + 5];
    const i1 = k + q,
      i2 = i1 + q,
      i3 = i2 + q;
    const ar = re[k],
      ai = im[k];
    let xr = re[i1],
      xi = im[i1];
    const br = xr * w2r - xi * w2i,
      bi = xr * w2i + xi * w2r;
    xr = re[i2];
    xi = im[i2];
    const cr = xr * w1r - xi * w1i,
      ci = xr * w1i + xi * w1r;
    xr = re[i3];
    xi = im[i3];
    const dr = xr * w3r - xi * w3i,
      di = xr * w3i + xi * w3r;
    out[o1 + k] = scale * (ar + br + cr + dr);
    if (o2 >= 0) out[o2 + k] = scale * (ai + bi + ci + di);
    if (i1 < l) {
      // X_{k+q} = t1 + i·t3 for the inverse, t1 = a − b, t3 = c − d
      out[o1 + i1] = scale * (ar - br - (ci - di));
      if (o2 >= 0) out[o2 + i1] = scale * (ai - bi + (cr - dr));
    }
  }
}

/** A radix-2 stage; in these plans only ever the last one, a single group of length n = 2q. */
function radix2(re: Float64Array, im: Float64Array, q: number, tw: Float64Array): void {
  for (let k = 0; k < q; k++) {
    const wr = tw[2 * k],
      wi = tw[2 * k + 1];
    const b = k + q;
    const xr = re[b],
      xi = im[b];
    const tr = xr * wr - xi * wi,
      ti = xr * wi + xi * wr;
    re[b] = re[k] - tr;
    im[b] = im[k] - ti;
    re[k] += tr;
    im[k] += ti;
  }
}

/** The first radix-4 stage (q = 1: all twiddles 1). */
function radix4First(re: Float64Array, im: Float64Array, n: number, s: number): void {
  for (let o = 0; o < n; o += 4) {
    const ar = re[o],
      ai = im[o],
      br = re[o + 1],
      bi = im[o + 1];
    const cr = re[o + 2],
      ci = im[o + 2],
      dr = re[o + 3],
      di = im[o + 3];
    butterfly4(re, im, o, o + 1, o + 2, o + 3, ar, ai, br, bi, cr, ci, dr, di, s);
  }
}

/**
 * A radix-4 stage joining groups of 4q. In bit-reversed order the four quarters of a group hold
 * the sub-transforms of x[4m], x[4m + 2], x[4m + 1], x[4m + 3]: twiddles w^0, w^{2k}, w^k, w^{3k}.
 */
function radix4(re: Float64Array, im: Float64Array, n: number, q: number, tw: Float64Array, s: number): void {
  const g = 4 * q;
  for (let k = 0; k < q; k++) {
    const w1r = tw[6 * k],
      w1i = tw[6 * k + 1];
    const w2r = tw[6 * k + 2],
      w2i = tw[6 * k + 3];
    const w3r = tw[6 * k + 4],
      w3i = tw[6 * k + 5];
    for (let i0 = k; i0 < n; i0 += g) {
      const i1 = i0 + q,
        i2 = i1 + q,
        i3 = i2 + q;
      const ar = re[i0],
        ai = im[i0];
      let xr = re[i1],
        xi = im[i1];
      const br = xr * w2r - xi * w2i,
        bi = xr * w2i + xi * w2r;
      xr = re[i2];
      xi = im[i2];
      const cr = xr * w1r - xi * w1i,
        ci = xr * w1i + xi * w1r;
      xr = re[i3];
      xi = im[i3];
      const dr = xr * w3r - xi * w3i,
        di = xr * w3i + xi * w3r; // kept inline, see ifftHead
      butterfly4(re, im, i0, i1, i2, i3, ar, ai, br, bi, cr, ci, dr, di, s);
    }
  }
}

/**
 * The radix-4 butterfly of both radix-4 stages: joins a, b, c, d (b, c, d already twiddled) into
 * slots i0 … i3. Forward X_{k+q} = t1 − i·t3, X_{k+3q} = t1 + i·t3 (signs swap for the inverse,
 * s = −1). Small enough that V8 inlines it: no measurable cost against the hand-inlined loops.
 */
function butterfly4(
  re: Float64Array,
  im: Float64Array,
  i0: number,
  i1: number,
  i2: number,
  i3: number,
  ar: number,
  ai: number,
  br: number,
  bi: number,
  cr: number,
  ci: number,
  dr: number,
  di: number,
  s: number,
): void {
  const t0r = ar + br,
    t0i = ai + bi,
    t1r = ar - br,
    t1i = ai - bi;
  const t2r = cr + dr,
    t2i = ci + di,
    t3r = s * (cr - dr),
    t3i = s * (ci - di);
  re[i0] = t0r + t2r;
  im[i0] = t0i + t2i;
  re[i2] = t0r - t2r;
  im[i2] = t0i - t2i;
  re[i1] = t1r + t3i;
  im[i1] = t1i - t3r;
  re[i3] = t1r - t3i;
  im[i3] = t1i + t3r;
}

/** Puts re/im into bit-reversed order in place. */
function bitReverse(rev: Uint32Array, re: Float64Array, im: Float64Array): void {
  for (let i = 0; i < rev.length; i++) {
    const j = rev[i];
    if (j > i) {
      const r = re[i],
        m = im[i];
      re[i] = re[j];
      im[i] = im[j];
      re[j] = r;
      im[j] = m;
    }
  }
}

/**
 * In-place unnormalized DFT of a power-of-two length: X_k = Σ_j x_j e^{∓2πi jk/n}
 * (minus sign forward, plus sign when `inverse`), natural order in and out.
 */
export function fftPow2(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (n & (n - 1) || n < 1) throw new Error(`fftPow2: length must be a power of two, got ${n}`);
  if (im.length !== n) throw new Error(`fftPow2: re and im must have the same length, got ${n} and ${im.length}`);
  const plan = pow2Plan(n);
  bitReverse(plan.rev, re, im);
  fftBitReversed(plan, re, im, inverse);
}

interface BluesteinPlan {
  m: number; // padded power-of-two length ≥ 2n − 1
  fft: Pow2Plan;
  wr: Float64Array; // chirp e^{-iπk²/n}
  wi: Float64Array;
  br: Float64Array; // FFT of the conjugate chirp, wrapped, already divided by m
  bi: Float64Array;
  // scratch (m): the chirped input's spectrum, and the product in bit-reversed order
  ar: Float64Array;
  ai: Float64Array;
  cr: Float64Array;
  ci: Float64Array;
}

const bluesteinPlans = new Map<number, BluesteinPlan>();

function bluesteinPlan(n: number): BluesteinPlan {
  let plan = bluesteinPlans.get(n);
  if (!plan) {
    const m = nextPow2(2 * n - 1);
    const fft = pow2Plan(m);
    const wr = new Float64Array(n),
      wi = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const angle = (Math.PI * ((k * k) % (2 * n))) / n; // k² mod 2n keeps the angle exact
      wr[k] = Math.cos(angle);
      wi[k] = -Math.sin(angle);
    }
    const br = new Float64Array(m),
      bi = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      br[k] = wr[k] / m;
      bi[k] = -wi[k] / m;
      if (k > 0) {
        br[m - k] = wr[k] / m;
        bi[m - k] = -wi[k] / m;
      }
    }
    fftPow2(br, bi);
    const scratch = () => new Float64Array(m);
    plan = { m, fft, wr, wi, br, bi, ar: scratch(), ai: scratch(), cr: scratch(), ci: scratch() };
    bluesteinPlans.set(n, plan);
  }
  return plan;
}

/**
 * In-place unnormalized DFT of any length (forward, or inverse when `inverse`). Powers of two go
 * straight to the radix-4 transform; other lengths use Bluestein with cached scratch, so a loop
 * over many rows allocates nothing.
 */
export function dftInPlace(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (im.length !== n) throw new Error(`dft: re and im must have the same length, got ${n} and ${im.length}`);
  if ((n & (n - 1)) === 0) {
    if (n > 0) fftPow2(re, im, inverse);
    return;
  }
  const { m, fft, wr, wi, br, bi, ar, ai, cr, ci } = bluesteinPlan(n);
  const rev = fft.rev;
  const sign = inverse ? -1 : 1; // inverse = conj(forward(conj(x)))
  ar.fill(0);
  ai.fill(0);
  for (let k = 0; k < n; k++) {
    const xr = re[k],
      xi = sign * im[k];
    const j = rev[k];
    ar[j] = xr * wr[k] - xi * wi[k];
    ai[j] = xr * wi[k] + xi * wr[k];
  }
  fftBitReversed(fft, ar, ai);
  // multiply by the chirp's spectrum, writing the product in bit-reversed order for the inverse
  for (let f = 0; f < m; f++) {
    const j = rev[f];
    cr[j] = ar[f] * br[f] - ai[f] * bi[f];
    ci[j] = ar[f] * bi[f] + ai[f] * br[f];
  }
  fftBitReversed(fft, cr, ci, true);
  for (let k = 0; k < n; k++) {
    const xr = cr[k],
      xi = ci[k];
    re[k] = xr * wr[k] - xi * wi[k];
    im[k] = sign * (xr * wi[k] + xi * wr[k]);
  }
}

/** Unnormalized DFT of any length, out of place (float64 copies of the inputs). */
export function dft(re: ArrayLike<number>, im: ArrayLike<number>, inverse = false): { re: Float64Array; im: Float64Array } {
  if (im.length !== re.length) throw new Error(`dft: re and im must have the same length, got ${re.length} and ${im.length}`);
  const outRe = Float64Array.from(re),
    outIm = Float64Array.from(im);
  dftInPlace(outRe, outIm, inverse);
  return { re: outRe, im: outIm };
}
