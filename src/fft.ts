/**
 * The one FFT of the library, on typed arrays (stock `tf.spectral` has no gradient, no wasm
 * kernel, and takes seconds per batch on the cpu backend). Radix-2 for powers of two, Bluestein's
 * chirp-z for any other length (L = 784 for MNIST), in float64 for accuracy.
 *
 * On top of it, two differentiable tensor ops with hand-written backward passes:
 * - `fftCausalConv(u, k)`: causal convolution by zero-padded FFT;
 * - `irdft(re, im)`: real part of the inverse DFT (the last step of the S4 kernel).
 * They read their inputs on the host, which the cpu and wasm backends do for free. Other backends
 * (WebGPU cannot read synchronously at all) get the same transforms as matmuls (dft-matmul.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { customOp2 } from "./custom-grad";
import { matmulCausalConv, matmulIrdft } from "./dft-matmul";
import { hostBackend } from "./backend";

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

interface Radix2Plan {
  cos: Float64Array; // cos(2πk/n), k < n/2
  sin: Float64Array; // sin(2πk/n)
  rev: Uint32Array; // bit-reversal permutation
}

const radix2Plans = new Map<number, Radix2Plan>();

function radix2Plan(n: number): Radix2Plan {
  let plan = radix2Plans.get(n);
  if (!plan) {
    const half = n >> 1;
    const cos = new Float64Array(half), sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    const bits = Math.round(Math.log2(n));
    const rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
    plan = { cos, sin, rev };
    radix2Plans.set(n, plan);
  }
  return plan;
}

/**
 * In-place unnormalized DFT of a power-of-two length: X_k = Σ_j x_j e^{∓2πi jk/n}
 * (minus sign forward, plus sign when `inverse`).
 */
export function fftPow2(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  if (n & (n - 1)) throw new Error(`fftPow2: length must be a power of two, got ${n}`);
  if (n <= 1) return;
  const { cos, sin, rev } = radix2Plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = sign * sin[k * step];
        const a = start + k, b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

interface BluesteinPlan {
  m: number; // padded power-of-two length ≥ 2n − 1
  wr: Float64Array; // chirp e^{-iπk²/n}
  wi: Float64Array;
  br: Float64Array; // FFT of the conjugate chirp, wrapped
  bi: Float64Array;
}

const bluesteinPlans = new Map<number, BluesteinPlan>();

function bluesteinPlan(n: number): BluesteinPlan {
  let plan = bluesteinPlans.get(n);
  if (!plan) {
    const m = nextPow2(2 * n - 1);
    const wr = new Float64Array(n), wi = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const angle = (Math.PI * ((k * k) % (2 * n))) / n; // k² mod 2n keeps the angle exact
      wr[k] = Math.cos(angle);
      wi[k] = -Math.sin(angle);
    }
    const br = new Float64Array(m), bi = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      br[k] = wr[k];
      bi[k] = -wi[k];
      if (k > 0) {
        br[m - k] = wr[k];
        bi[m - k] = -wi[k];
      }
    }
    fftPow2(br, bi);
    plan = { m, wr, wi, br, bi };
    bluesteinPlans.set(n, plan);
  }
  return plan;
}

/** Unnormalized DFT of any length, out of place. Power-of-two lengths go straight to radix-2. */
export function dft(re: ArrayLike<number>, im: ArrayLike<number>, inverse = false): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  if (im.length !== n) throw new Error(`dft: re and im must have the same length, got ${n} and ${im.length}`);
  const sign = inverse ? -1 : 1; // inverse = conj(forward(conj(x)))
  if ((n & (n - 1)) === 0) {
    const outRe = Float64Array.from(re), outIm = Float64Array.from(im);
    fftPow2(outRe, outIm, inverse);
    return { re: outRe, im: outIm };
  }
  const { m, wr, wi, br, bi } = bluesteinPlan(n);
  const ar = new Float64Array(m), ai = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    const xr = re[k], xi = sign * im[k];
    ar[k] = xr * wr[k] - xi * wi[k];
    ai[k] = xr * wi[k] + xi * wr[k];
  }
  fftPow2(ar, ai);
  for (let k = 0; k < m; k++) {
    const r = ar[k] * br[k] - ai[k] * bi[k];
    ai[k] = ar[k] * bi[k] + ai[k] * br[k];
    ar[k] = r;
  }
  fftPow2(ar, ai, true);
  const outRe = new Float64Array(n), outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const cr = ar[k] / m, ci = ai[k] / m;
    outRe[k] = cr * wr[k] - ci * wi[k];
    outIm[k] = sign * (cr * wi[k] + ci * wr[k]);
  }
  return { re: outRe, im: outIm };
}

/** Spectra of the rows of `x: (rows, l)`, zero-padded to length m: (rows, m) re and im. */
function rowSpectra(x: ArrayLike<number>, rows: number, l: number, m: number): { re: Float64Array; im: Float64Array } {
  const re = new Float64Array(rows * m), im = new Float64Array(rows * m);
  for (let r = 0; r < rows; r++) {
    const rr = re.subarray(r * m, (r + 1) * m), ri = im.subarray(r * m, (r + 1) * m);
    for (let t = 0; t < l; t++) rr[t] = x[r * l + t];
    fftPow2(rr, ri);
  }
  return { re, im };
}

/**
 * For every row r = b·H + h of the batch: out_r = first l samples of IDFT(X_r · K_h), or
 * IDFT(X_r · conj K_h) when `conjK` (a correlation). With `sumBatch` (the kernel gradient) K is
 * indexed by r too and the rows are summed over b into out_h.
 */
function spectralProduct(
  x: { re: Float64Array; im: Float64Array },
  k: { re: Float64Array; im: Float64Array },
  rows: number,
  kRows: number,
  l: number,
  m: number,
  conjK: boolean,
  sumBatch: boolean,
): Float32Array {
  const out = new Float32Array((sumBatch ? kRows : rows) * l);
  const pr = new Float64Array(m), pi = new Float64Array(m);
  const s = conjK ? -1 : 1;
  for (let r = 0; r < rows; r++) {
    const h = r % kRows;
    const kr = sumBatch ? r : h;
    for (let f = 0; f < m; f++) {
      const ar = x.re[r * m + f], ai = x.im[r * m + f];
      const br = k.re[kr * m + f], bi = s * k.im[kr * m + f];
      pr[f] = ar * br - ai * bi;
      pi[f] = ar * bi + ai * br;
    }
    fftPow2(pr, pi, true);
    const o = (sumBatch ? h : r) * l;
    for (let t = 0; t < l; t++) out[o + t] += pr[t] / m;
  }
  return out;
}

function checkConvShapes(u: tf.Tensor, k: tf.Tensor): void {
  const ks = k.shape, us = u.shape;
  const suffix = us.slice(us.length - ks.length);
  if (ks.length === 0 || ks.length > us.length || suffix.join() !== ks.join()) {
    throw new Error(`causal convolution: k (shape (${ks.join(", ")})) must match the trailing axes of u (shape (${us.join(", ")})), e.g. u: (b, h, l) with k: (h, l)`);
  }
}

/**
 * Causal convolution y[..., t] = Σ_{j ≤ t} k[..., j] · u[..., t − j] by FFT with zero padding to
 * a power of two ≥ 2l − 1 (so nothing wraps around). `u: (..., h, l)`, `k: (h, l)` — k's shape is
 * a suffix of u's and is shared over the leading (batch) axes.
 *
 * Backward: du is the correlation of dy with k, dk the correlation of dy with u summed over the
 * batch; the forward spectra of u and k are reused.
 */
export function fftCausalConv(u: tf.Tensor, k: tf.Tensor): tf.Tensor {
  checkConvShapes(u, k);
  if (!hostBackend()) return matmulCausalConv(u, k);
  const l = u.shape[u.rank - 1];
  const m = nextPow2(2 * l - 1);
  const kRows = k.size / l;
  const rows = u.size / l;
  const op = customOp2((uu, kk, save) => {
    const uSpec = rowSpectra(uu.dataSync(), rows, l, m);
    const kSpec = rowSpectra(kk.dataSync(), kRows, l, m);
    const value = tf.tensor(spectralProduct(uSpec, kSpec, rows, kRows, l, m, false, false), uu.shape);
    return {
      value,
      gradFunc: (dy) => {
        const gSpec = rowSpectra(dy.dataSync(), rows, l, m);
        const du = tf.tensor(spectralProduct(gSpec, kSpec, rows, kRows, l, m, true, false), u.shape);
        const dk = tf.tensor(spectralProduct(gSpec, uSpec, rows, kRows, l, m, true, true), k.shape);
        return [du, dk];
      },
    };
  });
  return op(u, k);
}

/**
 * y[..., j] = Re( (1/L) Σ_k (re + i·im)[..., k] e^{+2πi jk/L} ): the real part of the inverse DFT
 * along the last axis, for any L. Backward: d re = Re(DFT(g))/L, d im = Im(DFT(g))/L.
 */
export function irdft(re: tf.Tensor, im: tf.Tensor): tf.Tensor {
  if (re.shape.join() !== im.shape.join()) {
    throw new Error(`irdft: re and im must have the same shape, got (${re.shape}) and (${im.shape})`);
  }
  if (!hostBackend()) return matmulIrdft(re, im);
  const l = re.shape[re.rank - 1];
  const rows = re.size / l;
  const op = customOp2((xr, xi) => {
    const a = xr.dataSync(), b = xi.dataSync();
    const out = new Float32Array(rows * l);
    for (let r = 0; r < rows; r++) {
      const y = dft(a.subarray(r * l, (r + 1) * l), b.subarray(r * l, (r + 1) * l), true);
      for (let t = 0; t < l; t++) out[r * l + t] = y.re[t] / l;
    }
    return {
      value: tf.tensor(out, xr.shape),
      gradFunc: (dy) => {
        const g = dy.dataSync();
        const gr = new Float32Array(rows * l), gi = new Float32Array(rows * l);
        const zeros = new Float64Array(l);
        for (let r = 0; r < rows; r++) {
          const s = dft(g.subarray(r * l, (r + 1) * l), zeros);
          for (let t = 0; t < l; t++) {
            gr[r * l + t] = s.re[t] / l;
            gi[r * l + t] = s.im[t] / l;
          }
        }
        return [tf.tensor(gr, re.shape), tf.tensor(gi, re.shape)];
      },
    };
  });
  return op(re, im);
}
