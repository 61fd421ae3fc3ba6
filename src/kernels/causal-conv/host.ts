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
 * Rows are paired over the batch at equal h; an odd batch leaves one row per h, and those are
 * paired across h with the split.
 *
 * Per row this costs one complex transform forward (half a forward, half an inverse) and 1.5
 * backward; the spectrum of k is computed once per call and shared by all batch rows, and dk is
 * summed over the batch in the frequency domain, so it needs only h/2 inverse transforms. The
 * transforms read the float32 rows and write the float32 outputs directly (fft.ts), all scratch
 * is allocated once per length, and the loops are plain functions over typed arrays (no closures
 * in the hot paths, so V8 keeps them monomorphic).
 */
import { fftZeroPaddedPair, ifftHead, nextPow2, pow2Plan, Pow2Plan } from "../../fft";
import { HostInput, HostOutput, registerHostKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./names";

/** Tables and scratch for one length l (padded length m), reused by every call. */
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
  /** (h, m) buffers for the spectra of k and the dk accumulator, grown on demand and reused. */
  big: Float64Array[];
}

const plans = new Map<number, ConvPlan>();

function convPlan(l: number): ConvPlan {
  let p = plans.get(l);
  if (!p) {
    const m = Math.max(2, nextPow2(2 * l - 1)); // ≥ 2 so that l ≤ m/2 also for l = 1
    const neg = new Uint32Array(m);
    for (let f = 0; f < m; f++) neg[f] = (m - f) & (m - 1);
    const s = () => new Float64Array(m);
    p = { l, m, fft: pow2Plan(m), neg, ar: s(), ai: s(), br: s(), bi: s(), wr: s(), wi: s(), big: [] };
    plans.set(l, p);
  }
  return p;
}

/**
 * Buffer i of length n from the plan's pool, reallocated only when too short (so a call does not
 * allocate megabytes of scratch each time). Zeroed when `zero`.
 */
function buffer(p: ConvPlan, i: number, n: number, zero: boolean): Float64Array {
  if (!p.big[i] || p.big[i].length < n) p.big[i] = new Float64Array(n);
  const b = p.big[i].subarray(0, n);
  if (zero) b.fill(0);
  return b;
}

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

/** Spectra of the rows of k: (kRows, l) → (kRows, m) re and im, two rows per transform. */
function kernelSpectra(p: ConvPlan, k: Float32Array, kRows: number, re: Float64Array, im: Float64Array): void {
  const { m, neg, ar, ai } = p;
  for (let h = 0; h < kRows; h += 2) {
    const h2 = h + 1 < kRows ? h + 1 : -1;
    packedSpectrum(p, k, h, h2, ar, ai);
    const o1 = h * m, o2 = h2 * m;
    for (let f = 0; f < m; f++) {
      const g = neg[f];
      const xr = ar[f], xi = ai[f], cr = ar[g], ci = -ai[g]; // a = Z[f], c = conj Z[−f]
      re[o1 + f] = 0.5 * (xr + cr);
      im[o1 + f] = 0.5 * (xi + ci);
      if (h2 >= 0) {
        // −i(a − c)/2
        re[o2 + f] = 0.5 * (xi - ci);
        im[o2 + f] = -0.5 * (xr - cr);
      }
    }
  }
}

/**
 * Pairs of rows r = b·H + h covering every row once, as (r1, h1, r2, h2) quadruples: same h over
 * consecutive batch rows, then the last row of an odd batch paired across h. r2 = −1 (with
 * h2 = h1) for a row left alone.
 */
function rowPairs(rows: number, H: number): Int32Array {
  const B = rows / H;
  const out = new Int32Array(4 * Math.ceil(rows / 2));
  let n = 0;
  const push = (r1: number, h1: number, r2: number, h2: number) => {
    out[n++] = r1;
    out[n++] = h1;
    out[n++] = r2;
    out[n++] = h2;
  };
  // h outer: the kernel spectrum (and dk accumulator) of one h stays in cache over the batch
  for (let h = 0; h < H; h++) for (let b = 0; b + 1 < B; b += 2) push(b * H + h, h, (b + 1) * H + h, h);
  const b = B - (B % 2);
  if (b < B) {
    for (let h = 0; h < H; h += 2) {
      if (h + 1 < H) push(b * H + h, h, b * H + h + 1, h + 1);
      else push(b * H + h, h, -1, h);
    }
  }
  return out;
}

/** W[rev f] = Z[f]·K[f] (K at offset o). */
function productSameRow(m: number, rev: Uint32Array, zr: Float64Array, zi: Float64Array, Kr: Float64Array, Ki: Float64Array, o: number, wr: Float64Array, wi: Float64Array, conjK: boolean): void {
  const s = conjK ? -1 : 1;
  for (let f = 0; f < m; f++) {
    const ar = zr[f], ai = zi[f], kr = Kr[o + f], ki = s * Ki[o + f];
    const j = rev[f];
    wr[j] = ar * kr - ai * ki;
    wi[j] = ar * ki + ai * kr;
  }
}

/**
 * W[rev f] = X1[f]·K1[f] + i·X2[f]·K2[f] for Z = X1 + i·X2 and kernel rows at offsets o1, o2:
 * with a = Z[f], c = conj Z[−f] this is a·(K1 + K2)/2 + c·(K1 − K2)/2 (K conjugated if conjK).
 */
function productTwoRows(m: number, rev: Uint32Array, neg: Uint32Array, zr: Float64Array, zi: Float64Array, Kr: Float64Array, Ki: Float64Array, o1: number, o2: number, wr: Float64Array, wi: Float64Array, conjK: boolean): void {
  const s = conjK ? -1 : 1;
  for (let f = 0; f < m; f++) {
    const g = neg[f];
    const ar = zr[f], ai = zi[f], cr = zr[g], ci = -zi[g];
    const k1r = Kr[o1 + f], k1i = s * Ki[o1 + f], k2r = Kr[o2 + f], k2i = s * Ki[o2 + f];
    const pr = 0.5 * (k1r + k2r), pi = 0.5 * (k1i + k2i), qr = 0.5 * (k1r - k2r), qi = 0.5 * (k1i - k2i);
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
function accumulateSameRow(m: number, neg: Uint32Array, dr: Float64Array, di: Float64Array, ur: Float64Array, ui: Float64Array, Pr: Float64Array, Pi: Float64Array, o: number): void {
  for (let f = 0; f <= m >> 1; f++) {
    const g = neg[f];
    const ar = dr[f], ai = di[f], br = ur[f], bi = ui[f];
    const cr = dr[g], ci = di[g], er = ur[g], ei = ui[g];
    Pr[o + f] += ar * br + ai * bi + cr * er + ci * ei;
    Pi[o + f] += ai * br - ar * bi + cr * ei - ci * er;
  }
}

/** As accumulateSameRow for two rows with different h (offsets o1, o2): split, then accumulate. */
function accumulateTwoRows(m: number, neg: Uint32Array, dr: Float64Array, di: Float64Array, ur: Float64Array, ui: Float64Array, Pr: Float64Array, Pi: Float64Array, o1: number, o2: number): void {
  for (let f = 0; f <= m >> 1; f++) {
    const g = neg[f];
    // a = Zd[f], c = conj Zd[−f]; e = Zu[f], q = conj Zu[−f]
    const ar = dr[f], ai = di[f], cr = dr[g], ci = -di[g];
    const er = ur[f], ei = ui[f], qr = ur[g], qi = -ui[g];
    // 2·DY1 = a + c, 2·DY2 = −i(a − c), 2·U1 = e + q, 2·U2 = −i(e − q); P gets 2·DY·conj U
    const d1r = ar + cr, d1i = ai + ci, d2r = ai - ci, d2i = cr - ar;
    const u1r = er + qr, u1i = ei + qi, u2r = ei - qi, u2i = qr - er;
    Pr[o1 + f] += 0.5 * (d1r * u1r + d1i * u1i);
    Pi[o1 + f] += 0.5 * (d1i * u1r - d1r * u1i);
    Pr[o2 + f] += 0.5 * (d2r * u2r + d2i * u2i);
    Pi[o2 + f] += 0.5 * (d2i * u2r - d2r * u2i);
  }
}

/** y = u ⊛ k (causal). Inputs u (..., h, l), k (h, l). */
function forward([u, k]: HostInput[]): HostOutput {
  const l = u.shape[u.shape.length - 1];
  const y = new Float32Array(u.values.length);
  if (l === 0 || y.length === 0) return { values: y, shape: u.shape };
  const rows = y.length / l, H = k.values.length / l;
  const p = convPlan(l);
  const { m, neg, ar, ai, wr, wi } = p, rev = p.fft.rev;
  const Kr = buffer(p, 0, H * m, false), Ki = buffer(p, 1, H * m, false);
  kernelSpectra(p, k.values, H, Kr, Ki);
  const pairs = rowPairs(rows, H);
  for (let i = 0; i < pairs.length; i += 4) {
    const r1 = pairs[i], h1 = pairs[i + 1], r2 = pairs[i + 2], h2 = pairs[i + 3];
    packedSpectrum(p, u.values, r1, r2, ar, ai);
    if (h1 === h2) productSameRow(m, rev, ar, ai, Kr, Ki, h1 * m, wr, wi, false);
    else productTwoRows(m, rev, neg, ar, ai, Kr, Ki, h1 * m, h2 * m, wr, wi, false);
    packedInverse(p, y, r1, r2);
  }
  return { values: y, shape: u.shape };
}

/**
 * Inputs dy (..., h, l), u (..., h, l), k (h, l) → [du, dk]:
 *   du[..., h, s] = Σ_{t ≥ s} dy[..., h, t] · k[h, t − s]       (correlation of dy with k)
 *   dk[h, j]      = Σ_batch Σ_{t ≥ j} dy[..., h, t] · u[..., h, t − j]
 * In frequency: DU = DY·conj K per row, DK = Σ_batch DY·conj U (summed before the inverse).
 */
function backward([dy, u, k]: HostInput[]): HostOutput[] {
  const l = u.shape[u.shape.length - 1];
  const du = new Float32Array(u.values.length);
  const dk = new Float32Array(k.values.length);
  if (l === 0 || du.length === 0) return [{ values: du, shape: u.shape }, { values: dk, shape: k.shape }];
  const rows = du.length / l, H = dk.length / l;
  const p = convPlan(l);
  const { m, neg, ar, ai, br, bi, wr, wi } = p, rev = p.fft.rev;
  const Kr = buffer(p, 0, H * m, false), Ki = buffer(p, 1, H * m, false);
  kernelSpectra(p, k.values, H, Kr, Ki);
  const Pr = buffer(p, 2, H * m, true), Pi = buffer(p, 3, H * m, true); // 2·Σ_batch DY·conj U, bins f ≤ m/2
  const pairs = rowPairs(rows, H);
  for (let i = 0; i < pairs.length; i += 4) {
    const r1 = pairs[i], h1 = pairs[i + 1], r2 = pairs[i + 2], h2 = pairs[i + 3];
    packedSpectrum(p, dy.values, r1, r2, ar, ai); // Zd = DY1 + i·DY2
    packedSpectrum(p, u.values, r1, r2, br, bi); // Zu = U1 + i·U2
    if (h1 === h2) {
      productSameRow(m, rev, ar, ai, Kr, Ki, h1 * m, wr, wi, true);
      accumulateSameRow(m, neg, ar, ai, br, bi, Pr, Pi, h1 * m);
    } else {
      productTwoRows(m, rev, neg, ar, ai, Kr, Ki, h1 * m, h2 * m, wr, wi, true);
      accumulateTwoRows(m, neg, ar, ai, br, bi, Pr, Pi, h1 * m, h2 * m);
    }
    packedInverse(p, du, r1, r2);
  }
  // dk rows h, h + 1 from one inverse of (P_h + i·P_{h+1})/2; bins above m/2 by symmetry
  const half = m >> 1;
  for (let h = 0; h < H; h += 2) {
    const h2 = h + 1 < H ? h + 1 : -1;
    const o1 = h * m, o2 = h2 * m;
    for (let f = 0; f < m; f++) {
      const f0 = f <= half ? f : m - f, s = f <= half ? 0.5 : -0.5; // P[f] = conj P[m − f]
      const p1r = 0.5 * Pr[o1 + f0], p1i = s * Pi[o1 + f0];
      const p2r = h2 >= 0 ? 0.5 * Pr[o2 + f0] : 0, p2i = h2 >= 0 ? s * Pi[o2 + f0] : 0;
      const j = rev[f];
      wr[j] = p1r - p2i;
      wi[j] = p1i + p2r;
    }
    packedInverse(p, dk, h, h2);
  }
  return [
    { values: du, shape: u.shape },
    { values: dk, shape: k.shape },
  ];
}

registerHostKernel(KERNEL, ["u", "k"], forward);
registerHostKernel(GRAD_KERNEL, ["dy", "u", "k"], backward);
