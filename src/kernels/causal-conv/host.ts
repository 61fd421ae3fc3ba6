/**
 * The causal convolution on the host (cpu and wasm backends): FFT convolution in float64, zero
 * padded to a power of two m ≥ 2l − 1 so that the circular convolution never wraps around into
 * the first l outputs.
 *
 * Every signal here is real, so two of them share one complex transform: rows r1, r2 go in as
 * x1 + i·x2. With Z = FFT(x1 + i·x2), a = Z[f] and c = conj Z[−f]:
 *   X1[f] = (a + c)/2,  X2[f] = −i(a − c)/2,
 * and since IFFT(Y1 + i·Y2) = y1 + i·y2 for real y1, y2, one inverse transform returns both
 * outputs. Rows that share a kernel row (same h) need no split at all: Z·K = U1·K + i·U2·K.
 * Rows r = b·H + h are paired over the batch at equal h; an odd batch leaves one row per h, and
 * those are paired across the channels h, h + 1 (h even) with the split. So every row of the
 * channels h, h + 1 lies in a pair of its own channel pair: the backward pass is split by channel
 * pairs and sums dk over the batch without sharing a dk row between units.
 *
 * Work per call, as phases of independent units (host-kernel.ts), identical at any thread count:
 * - forward: phase 0, one unit per pair of kernel rows: the spectra of k, once per call, into
 *   float64 scratch (H, m) that every row reads; phase 1, one unit per pair of rows of u.
 * - backward: one phase, one unit per channel pair (h, h + 1): the spectra of its two kernel rows,
 *   du for every row at those channels, and dk for both, summed over the batch in a fixed order
 *   (batch pairs in order, then the odd row) in a buffer of the unit, then one inverse transform.
 * Per row the forward costs one complex transform (half a forward, half an inverse), the
 * backward 1.5; dk is summed in the frequency domain and needs h/2 inverse transforms in all.
 *
 * The backward pass transforms u again rather than reading the spectra of u from the forward
 * pass. Keeping them (float32, ⌈rows/2⌉ × 2 × m values: 2.6× u at l = 784, held from the forward
 * to the backward pass) was measured on wasm: forward + backward 6 % (b 16, h 64) and 12 %
 * (b 128, h 128) faster on one thread, but 1–4 % on two, where the spectra cross the shared
 * arena twice; and an S4 training step (4 layers, d 64, batch 64) peaked 79 MiB (4.4 %) higher,
 * which the 4 GiB wasm heap cannot spare at the sizes that already sit near it.
 *
 * The transforms read the float32 rows and write the float32 outputs directly (fft.ts); per-thread
 * scratch is allocated once per length (each worker thread has its own module instance), and the
 * loops are plain functions over typed arrays (no closures in the hot paths, so V8 keeps them
 * monomorphic). This file imports nothing from TensorFlow.js: worker threads load it.
 */
import { fftZeroPaddedPair, ifftHead, nextPow2, pow2Plan, Pow2Plan } from "../../fft";
import { HostKernelBuffers, HostKernelSpec, sizeOf } from "../host-kernel";
import { GRAD_KERNEL, KERNEL } from "./names";

/** The padded length of the transforms for rows of length l (≥ 2, so that l ≤ m/2 also for l = 1). */
export function paddedLength(l: number): number {
  return Math.max(2, nextPow2(2 * l - 1));
}

/** Tables and per-thread scratch for one length l (padded length m), reused by every call. */
interface ConvPlan {
  l: number;
  m: number;
  fft: Pow2Plan;
  /** neg[f] = (m − f) mod m, the bin of frequency −f */
  neg: Uint32Array;
  // complex scratch of length m: two input spectra and one product
  ar: Float64Array;
  ai: Float64Array;
  br: Float64Array;
  bi: Float64Array;
  wr: Float64Array;
  wi: Float64Array;
  // complex (2, m): the spectra of the two kernel rows of a backward unit, and their dk sums
  kr: Float64Array;
  ki: Float64Array;
  pr: Float64Array;
  pi: Float64Array;
}

const plans = new Map<number, ConvPlan>();

function convPlan(l: number): ConvPlan {
  let p = plans.get(l);
  if (!p) {
    const m = paddedLength(l);
    const neg = new Uint32Array(m);
    for (let f = 0; f < m; f++) neg[f] = (m - f) & (m - 1);
    const s = (n = m) => new Float64Array(n);
    p = {
      l,
      m,
      fft: pow2Plan(m),
      neg,
      ar: s(),
      ai: s(),
      br: s(),
      bi: s(),
      wr: s(),
      wi: s(),
      kr: s(2 * m),
      ki: s(2 * m),
      pr: s(2 * m),
      pi: s(2 * m),
    };
    plans.set(l, p);
  }
  return p;
}

/** The sizes of one call: u (..., h, l) as rows = B·H rows r = b·H + h, k as H rows. */
interface Sizes {
  l: number;
  rows: number;
  H: number;
  B: number;
  /** Pairs of batch rows per channel, ⌊B/2⌋. */
  half: number;
  /** Row pairs in all, ⌈rows/2⌉. */
  pairs: number;
}

function sizesOf(uShape: number[], kShape: number[]): Sizes {
  const l = uShape[uShape.length - 1];
  const rows = l === 0 ? 0 : sizeOf(uShape) / l,
    H = l === 0 ? 0 : sizeOf(kShape) / l;
  const B = H === 0 ? 0 : rows / H;
  return { l, rows, H, B, half: B >> 1, pairs: Math.ceil(rows / 2) };
}

/**
 * Row pair p as [r1, h1, r2, h2]: pairs p < H·half are batch rows (2i, 2i + 1) of channel
 * h = ⌊p / half⌋; the rest join the rows of an odd batch's last row at channels 2q and 2q + 1.
 * r2 = −1 (with h2 = h1) for a row left alone. Written into `out`.
 */
function pairRows(s: Sizes, p: number, out: Int32Array): void {
  const { H, B, half } = s;
  if (p < H * half) {
    const h = Math.floor(p / half),
      b = 2 * (p - h * half);
    out[0] = b * H + h;
    out[1] = h;
    out[2] = (b + 1) * H + h;
    out[3] = h;
  } else {
    const h = 2 * (p - H * half),
      r = (B - 1) * H + h;
    out[0] = r;
    out[1] = h;
    out[2] = h + 1 < H ? r + 1 : -1;
    out[3] = h + 1 < H ? h + 1 : h;
  }
}

/** The row pair of channel pair (h, h + 1) that holds an odd batch's last rows. */
const oddPair = (s: Sizes, h: number) => s.H * s.half + (h >> 1);

/** Scratch for pairRows (per thread; run is never reentrant). */
const pair = new Int32Array(4);

/** FFT of rows r1 and r2 of x: (rows, l), packed as x[r1] + i·x[r2] (r2 < 0: zero), into (re, im). */
function packedSpectrum(p: ConvPlan, x: Float32Array, r1: number, r2: number, re: Float64Array, im: Float64Array): void {
  fftZeroPaddedPair(p.fft, x, r1 * p.l, r2 >= 0 ? r2 * p.l : -1, p.l, re, im);
}

/**
 * Inverse FFT of the product in (p.wr, p.wi), given in bit-reversed order; writes the first l
 * samples, Re/m to row r1 of out and Im/m to row r2 (if r2 ≥ 0).
 */
function packedInverse(p: ConvPlan, out: Float32Array, r1: number, r2: number): void {
  ifftHead(p.fft, p.wr, p.wi, p.l, 1 / p.m, out, r1 * p.l, r2 >= 0 ? r2 * p.l : -1);
}

/**
 * Spectra of kernel rows h and h2 (h2 < 0: none) of k: (H, l), from one packed transform, into
 * (re, im) at offsets o1 and o2 (m each).
 */
function kernelPairSpectra(
  p: ConvPlan,
  k: Float32Array,
  h: number,
  h2: number,
  re: Float64Array,
  im: Float64Array,
  o1: number,
  o2: number,
): void {
  const { m, neg, ar, ai } = p;
  packedSpectrum(p, k, h, h2, ar, ai);
  for (let f = 0; f < m; f++) {
    const g = neg[f];
    const xr = ar[f],
      xi = ai[f],
      cr = ar[g],
      ci = -ai[g]; // a = Z[f], c = conj Z[−f]
    re[o1 + f] = 0.5 * (xr + cr);
    im[o1 + f] = 0.5 * (xi + ci);
    if (h2 >= 0) {
      // −i(a − c)/2
      re[o2 + f] = 0.5 * (xi - ci);
      im[o2 + f] = -0.5 * (xr - cr);
    }
  }
}

/** W[rev f] = Z[f]·K[f] (K at offset o). */
function productSameRow(
  m: number,
  rev: Uint32Array,
  zr: Float64Array,
  zi: Float64Array,
  Kr: Float64Array,
  Ki: Float64Array,
  o: number,
  wr: Float64Array,
  wi: Float64Array,
  conjK: boolean,
): void {
  const s = conjK ? -1 : 1;
  for (let f = 0; f < m; f++) {
    const ar = zr[f],
      ai = zi[f],
      kr = Kr[o + f],
      ki = s * Ki[o + f];
    const j = rev[f];
    wr[j] = ar * kr - ai * ki;
    wi[j] = ar * ki + ai * kr;
  }
}

/**
 * W[rev f] = X1[f]·K1[f] + i·X2[f]·K2[f] for Z = X1 + i·X2 and kernel rows at offsets o1, o2:
 * with a = Z[f], c = conj Z[−f] this is a·(K1 + K2)/2 + c·(K1 − K2)/2 (K conjugated if conjK).
 * Apart from productSameRow on purpose: with K1 = K2 the c term vanishes, half the arithmetic.
 */
function productTwoRows(
  m: number,
  rev: Uint32Array,
  neg: Uint32Array,
  zr: Float64Array,
  zi: Float64Array,
  Kr: Float64Array,
  Ki: Float64Array,
  o1: number,
  o2: number,
  wr: Float64Array,
  wi: Float64Array,
  conjK: boolean,
): void {
  const s = conjK ? -1 : 1;
  for (let f = 0; f < m; f++) {
    const g = neg[f];
    const ar = zr[f],
      ai = zi[f],
      cr = zr[g],
      ci = -zi[g];
    const k1r = Kr[o1 + f],
      k1i = s * Ki[o1 + f],
      k2r = Kr[o2 + f],
      k2i = s * Ki[o2 + f];
    const pr = 0.5 * (k1r + k2r),
      pi = 0.5 * (k1i + k2i),
      qr = 0.5 * (k1r - k2r),
      qi = 0.5 * (k1i - k2i);
    const j = rev[f];
    wr[j] = ar * pr - ai * pi + cr * qr - ci * qi;
    wi[j] = ar * pi + ai * pr + cr * qi + ci * qr;
  }
}

/**
 * P[o + f] += 2·(DY1·conj U1 + DY2·conj U2) for packed Zd = DY1 + i·DY2, Zu = U1 + i·U2 of two
 * rows with the same h: that sum is Zd[f]·conj Zu[f] + conj(Zd[−f])·Zu[−f], no split needed.
 * P is the spectrum of a real signal (Hermitian), so only bins f ≤ m/2 are accumulated; the
 * factor 1/2 is applied once at the end.
 */
function accumulateSameRow(
  m: number,
  neg: Uint32Array,
  dr: Float64Array,
  di: Float64Array,
  ur: Float64Array,
  ui: Float64Array,
  Pr: Float64Array,
  Pi: Float64Array,
  o: number,
): void {
  for (let f = 0; f <= m >> 1; f++) {
    const g = neg[f];
    const ar = dr[f],
      ai = di[f],
      br = ur[f],
      bi = ui[f];
    const cr = dr[g],
      ci = di[g],
      er = ur[g],
      ei = ui[g];
    Pr[o + f] += ar * br + ai * bi + cr * er + ci * ei;
    Pi[o + f] += ai * br - ar * bi + cr * ei - ci * er;
  }
}

/**
 * As accumulateSameRow for two rows with different h (offsets o1, o2): split, then accumulate.
 * Apart on purpose: rows of one h skip the split, half the arithmetic (and other rounding).
 */
function accumulateTwoRows(
  m: number,
  neg: Uint32Array,
  dr: Float64Array,
  di: Float64Array,
  ur: Float64Array,
  ui: Float64Array,
  Pr: Float64Array,
  Pi: Float64Array,
  o1: number,
  o2: number,
): void {
  for (let f = 0; f <= m >> 1; f++) {
    const g = neg[f];
    // a = Zd[f], c = conj Zd[−f]; e = Zu[f], q = conj Zu[−f]
    const ar = dr[f],
      ai = di[f],
      cr = dr[g],
      ci = -di[g];
    const er = ur[f],
      ei = ui[f],
      qr = ur[g],
      qi = -ui[g];
    // 2·DY1 = a + c, 2·DY2 = −i(a − c), 2·U1 = e + q, 2·U2 = −i(e − q); P gets 2·DY·conj U
    const d1r = ar + cr,
      d1i = ai + ci,
      d2r = ai - ci,
      d2i = cr - ar;
    const u1r = er + qr,
      u1i = ei + qi,
      u2r = ei - qi,
      u2i = qr - er;
    Pr[o1 + f] += 0.5 * (d1r * u1r + d1i * u1i);
    Pi[o1 + f] += 0.5 * (d1i * u1r - d1r * u1i);
    Pr[o2 + f] += 0.5 * (d2r * u2r + d2i * u2i);
    Pi[o2 + f] += 0.5 * (d2i * u2r - d2r * u2i);
  }
}

/** Phase 0 of the forward pass: spectra of kernel row pairs [from, to) into K (H, m), re and im. */
function forwardKernelSpectra(b: HostKernelBuffers, from: number, to: number): void {
  const k = b.ins[1],
    H = sizesOf(b.shapes[0], b.shapes[1]).H;
  const p = convPlan(b.shapes[0][b.shapes[0].length - 1]);
  const [Kr, Ki] = b.scratch;
  for (let j = from; j < to; j++) {
    const h = 2 * j,
      h2 = h + 1 < H ? h + 1 : -1;
    kernelPairSpectra(p, k, h, h2, Kr, Ki, h * p.m, h2 * p.m);
  }
}

/** Phase 1 of the forward pass: y = u ⊛ k for row pairs [from, to). */
function forwardRows(b: HostKernelBuffers, from: number, to: number): void {
  const s = sizesOf(b.shapes[0], b.shapes[1]);
  const p = convPlan(s.l);
  const { m, neg, ar, ai, wr, wi } = p,
    rev = p.fft.rev;
  const [Kr, Ki] = b.scratch;
  const u = b.ins[0],
    y = b.outs[0];
  for (let q = from; q < to; q++) {
    pairRows(s, q, pair);
    const r1 = pair[0],
      h1 = pair[1],
      r2 = pair[2],
      h2 = pair[3];
    packedSpectrum(p, u, r1, r2, ar, ai);
    if (h1 === h2) productSameRow(m, rev, ar, ai, Kr, Ki, h1 * m, wr, wi, false);
    else productTwoRows(m, rev, neg, ar, ai, Kr, Ki, h1 * m, h2 * m, wr, wi, false);
    packedInverse(p, y, r1, r2);
  }
}

/**
 * The backward pass for channel pairs [from, to): inputs dy (..., H, l), u (..., H, l), k (H, l)
 * → du (shape of u), dk (H, l):
 *   du[..., h, s] = Σ_{t ≥ s} dy[..., h, t] · k[h, t − s]       (correlation of dy with k)
 *   dk[h, j]      = Σ_batch Σ_{t ≥ j} dy[..., h, t] · u[..., h, t − j]
 * In frequency: DU = DY·conj K per row, DK = Σ_batch DY·conj U (summed before the inverse).
 */
function backwardChannels(b: HostKernelBuffers, from: number, to: number): void {
  const s = sizesOf(b.shapes[1], b.shapes[2]);
  const p = convPlan(s.l);
  const { m, neg, ar, ai, br, bi, wr, wi, kr: Kr, ki: Ki, pr: Pr, pi: Pi } = p,
    rev = p.fft.rev;
  const [dy, u, k] = b.ins;
  const [du, dk] = b.outs;
  const { H, half } = s;
  const last = s.B % 2; // 1: the odd batch's last rows of c1, c2 form one more pair
  for (let j = from; j < to; j++) {
    const c1 = 2 * j,
      c2 = c1 + 1 < H ? c1 + 1 : -1; // the unit's channels (c2 < 0: none)
    kernelPairSpectra(p, k, c1, c2, Kr, Ki, 0, m);
    Pr.fill(0);
    Pi.fill(0); // 2·Σ_batch DY·conj U of c1 (offset 0) and c2 (offset m), bins f ≤ m/2
    // the batch pairs of c1, then of c2, then the odd batch's last rows: a fixed order per dk row
    const count = (c2 >= 0 ? 2 : 1) * half + last;
    for (let i = 0; i < count; i++) {
      const q = i < half ? c1 * half + i : i < count - last ? c2 * half + i - half : oddPair(s, c1);
      pairRows(s, q, pair);
      const r1 = pair[0],
        h1 = pair[1],
        r2 = pair[2],
        h2 = pair[3];
      packedSpectrum(p, dy, r1, r2, ar, ai); // Zd = DY1 + i·DY2
      packedSpectrum(p, u, r1, r2, br, bi); // Zu = U1 + i·U2
      if (h1 === h2) {
        const o = (h1 - c1) * m;
        productSameRow(m, rev, ar, ai, Kr, Ki, o, wr, wi, true);
        accumulateSameRow(m, neg, ar, ai, br, bi, Pr, Pi, o);
      } else {
        productTwoRows(m, rev, neg, ar, ai, Kr, Ki, 0, m, wr, wi, true);
        accumulateTwoRows(m, neg, ar, ai, br, bi, Pr, Pi, 0, m);
      }
      packedInverse(p, du, r1, r2);
    }
    // dk rows c1, c2 from one inverse of (P_c1 + i·P_c2)/2; bins above m/2 by symmetry
    const halfM = m >> 1;
    for (let f = 0; f < m; f++) {
      const f0 = f <= halfM ? f : m - f,
        sign = f <= halfM ? 0.5 : -0.5; // P[f] = conj P[m − f]
      const p1r = 0.5 * Pr[f0],
        p1i = sign * Pi[f0];
      const p2r = c2 >= 0 ? 0.5 * Pr[m + f0] : 0,
        p2i = c2 >= 0 ? sign * Pi[m + f0] : 0;
      const at = rev[f];
      wr[at] = p1r - p2i;
      wi[at] = p1i + p2r;
    }
    packedInverse(p, dk, c1, c2);
  }
}

/** The forward plan: kernel spectra (H, m) as scratch; phases over kernel row pairs, row pairs. */
function forwardPlan(uShape: number[], kShape: number[]) {
  const s = sizesOf(uShape, kShape);
  if (s.rows === 0) return { outputs: [uShape], phases: [0, 0] };
  const Km = s.H * paddedLength(s.l);
  return { outputs: [uShape], scratch: [Km, Km], phases: [Math.ceil(s.H / 2), s.pairs] };
}

/** Inputs {u, k} → y (shape of u). */
export const CAUSAL_CONV_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["u", "k"],
  plan: ([uShape, kShape]) => forwardPlan(uShape, kShape),
  run: (phase, b, from, to) => (phase === 0 ? forwardKernelSpectra(b, from, to) : forwardRows(b, from, to)),
};

/** Inputs {dy, u, k} → [du (shape of u), dk (shape of k)]; one unit per channel pair. */
export const CAUSAL_CONV_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy", "u", "k"],
  plan: ([, uShape, kShape]) => ({ outputs: [uShape, kShape], phases: [Math.ceil(sizesOf(uShape, kShape).H / 2)] }),
  run: (_phase, b, from, to) => backwardChannels(b, from, to),
};
