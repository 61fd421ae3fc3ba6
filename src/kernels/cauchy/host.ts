/**
 * Cauchy sums on the host (cpu and wasm backends): one fused pass over (h, n, l) that never
 * materializes the (H, N, L) Cauchy matrix, forward and backward.
 *
 * Inputs, float32, complex numbers interleaved as (re, im) pairs on a last axis of 2 (this keeps
 * the WebGPU versions within 8 storage buffers): lambda (H, N, 2), v (H, M, N, 2), step (H),
 * z (L, 2). The output S is planar, (2, H, M, L) — real plane, then imaginary plane — because
 * splitting a large tensor on its last axis is slow in tfjs (50 ms on wasm at the S4 sizes) while
 * splitting on the first is a cheap slice. The backward takes g (2, H, M, L), the gradient of S.
 */
import { HostKernelSpec } from "../host-kernel";

export const CAUCHY = "CauchyBilinear";
export const CAUCHY_GRAD = "CauchyBilinearGrad";
export const INPUTS = ["lambda", "v", "step", "z"] as const;

/** 1 − z and 1 + z for every point, in float64. */
function edges(z: Float32Array) {
  const L = z.length / 2;
  const aRe = new Float64Array(L),
    aIm = new Float64Array(L),
    bRe = new Float64Array(L),
    bIm = new Float64Array(L);
  for (let l = 0; l < L; l++) {
    aRe[l] = 1 - z[2 * l];
    aIm[l] = -z[2 * l + 1];
    bRe[l] = 1 + z[2 * l];
    bIm[l] = z[2 * l + 1];
  }
  return { aRe, aIm, bRe, bIm };
}

function sizes(shapes: number[][]) {
  const [H, N] = shapes[0];
  const M = shapes[1][1];
  const L = shapes[3][0];
  return { H, N, M, L };
}

/**
 * The Cauchy term r = 2 / ((2/Δ)(1 − z) − λ(1 + z)) is recomputed wherever it is needed
 * (forward and backward) instead of stored: (H, N, L) of it would be 25 MB at the S4 sizes.
 *
 * The weights v[h, m, ·] go four at a time (S4 has M = 4, the four Woodbury sums): every
 * accumulator of a group lives in a local, about 2× faster than arrays indexed by m. Other M take
 * ⌈M/4⌉ groups, the last padded with zero weights whose sums are dropped.
 */

/** Weights per group. */
const GROUP = 4;

/** λ of row h as N complex pairs, and the weights m0..m0+3 of row h as (N, 4) complex pairs
 * (zero past M), so that the innermost loop over n reads one short contiguous run. */
function packGroup(
  h: number,
  N: number,
  M: number,
  m0: number,
  lambda: Float32Array,
  v: Float32Array,
  lam: Float64Array,
  w: Float64Array,
): void {
  for (let n = 0; n < N; n++) {
    lam[2 * n] = lambda[2 * (h * N + n)];
    lam[2 * n + 1] = lambda[2 * (h * N + n) + 1];
    for (let j = 0, m = m0; j < GROUP; j++, m++) {
      w[2 * (n * GROUP + j)] = m < M ? v[2 * ((h * M + m) * N + n)] : 0;
      w[2 * (n * GROUP + j) + 1] = m < M ? v[2 * ((h * M + m) * N + n) + 1] : 0;
    }
  }
}

/**
 * S (2, H, M, L) of row h for the `count` ≤ 4 weights of one group: `row` is the index of
 * S[0, h, m0, 0], `plane` the offset of the imaginary plane.
 */
function forwardGroup(
  N: number,
  L: number,
  s2: number,
  lam: Float64Array,
  w: Float64Array,
  aRe: Float64Array,
  aIm: Float64Array,
  bRe: Float64Array,
  bIm: Float64Array,
  out: Float32Array,
  row: number,
  plane: number,
  count: number,
): void {
  for (let l = 0; l < L; l++) {
    const ar = s2 * aRe[l],
      ai = s2 * aIm[l],
      br = bRe[l],
      bi = bIm[l];
    let s0r = 0,
      s0i = 0,
      s1r = 0,
      s1i = 0,
      s2r = 0,
      s2i = 0,
      s3r = 0,
      s3i = 0;
    for (let n = 0; n < N; n++) {
      const lr = lam[2 * n],
        li = lam[2 * n + 1];
      const dr = ar - (lr * br - li * bi),
        di = ai - (lr * bi + li * br);
      const k = 2 / (dr * dr + di * di);
      const rr = dr * k,
        ri = -di * k;
      const o = 8 * n;
      let wr = w[o],
        wi = w[o + 1];
      s0r += wr * rr - wi * ri;
      s0i += wr * ri + wi * rr;
      wr = w[o + 2];
      wi = w[o + 3];
      s1r += wr * rr - wi * ri;
      s1i += wr * ri + wi * rr;
      wr = w[o + 4];
      wi = w[o + 5];
      s2r += wr * rr - wi * ri;
      s2i += wr * ri + wi * rr;
      wr = w[o + 6];
      wi = w[o + 7];
      s3r += wr * rr - wi * ri;
      s3i += wr * ri + wi * rr;
    }
    const o = row + l;
    out[o] = s0r;
    out[plane + o] = s0i;
    if (count > 1) {
      out[o + L] = s1r;
      out[plane + o + L] = s1i;
    }
    if (count > 2) {
      out[o + 2 * L] = s2r;
      out[plane + o + 2 * L] = s2i;
    }
    if (count > 3) {
      out[o + 3 * L] = s3r;
      out[plane + o + 3 * L] = s3i;
    }
  }
}

/** Rows h in [from, to) of S: (2, H, M, L). */
function forward(shapes: number[][], [lambda, v, step, z]: Float32Array[], out: Float32Array, from: number, to: number): void {
  const { H, N, M, L } = sizes(shapes);
  const { aRe, aIm, bRe, bIm } = edges(z);
  const lam = new Float64Array(2 * N),
    w = new Float64Array(2 * N * GROUP);
  for (let h = from; h < to; h++) {
    const s2 = 2 / step[h];
    for (let m0 = 0; m0 < M; m0 += GROUP) {
      packGroup(h, N, M, m0, lambda, v, lam, w);
      forwardGroup(N, L, s2, lam, w, aRe, aIm, bRe, bIm, out, (h * M + m0) * L, H * M * L, Math.min(GROUP, M - m0));
    }
  }
}

/**
 * Backward of row h for the `count` ≤ 4 weights m0.. of one group, gS holding their g_S as (L, 4)
 * complex pairs (zero past M): writes their g_v, adds their shares of g_λ (N complex pairs) to
 * gLam, and returns their share of ∂loss/∂(2/Δ).
 */
function backwardGroup(
  h: number,
  N: number,
  M: number,
  m0: number,
  count: number,
  L: number,
  s2: number,
  lam: Float64Array,
  w: Float64Array,
  gS: Float64Array,
  aRe: Float64Array,
  aIm: Float64Array,
  bRe: Float64Array,
  bIm: Float64Array,
  gLam: Float64Array,
  gV: Float32Array,
): number {
  let gS2 = 0;
  for (let n = 0; n < N; n++) {
    const lr = lam[2 * n],
      li = lam[2 * n + 1];
    const q = 8 * n;
    const w0r = w[q],
      w0i = w[q + 1],
      w1r = w[q + 2],
      w1i = w[q + 3],
      w2r = w[q + 4],
      w2i = w[q + 5],
      w3r = w[q + 6],
      w3i = w[q + 7];
    let gLr = 0,
      gLi = 0;
    let v0r = 0,
      v0i = 0,
      v1r = 0,
      v1i = 0,
      v2r = 0,
      v2i = 0,
      v3r = 0,
      v3i = 0;
    for (let l = 0; l < L; l++) {
      const ar = aRe[l],
        ai = aIm[l],
        br = bRe[l],
        bi = bIm[l];
      const dr = s2 * ar - (lr * br - li * bi),
        di = s2 * ai - (lr * bi + li * br);
      const k = 2 / (dr * dr + di * di);
      const rr = dr * k,
        ri = -di * k;
      const o = 8 * l;
      const g0r = gS[o],
        g0i = gS[o + 1],
        g1r = gS[o + 2],
        g1i = gS[o + 3];
      const g2r = gS[o + 4],
        g2i = gS[o + 5],
        g3r = gS[o + 6],
        g3i = gS[o + 7];
      // g_v += g_S · conj(r)
      v0r += g0r * rr + g0i * ri;
      v0i += g0i * rr - g0r * ri;
      v1r += g1r * rr + g1i * ri;
      v1i += g1i * rr - g1r * ri;
      v2r += g2r * rr + g2i * ri;
      v2i += g2i * rr - g2r * ri;
      v3r += g3r * rr + g3i * ri;
      v3i += g3i * rr - g3r * ri;
      // g_r = Σ_m g_S · conj(v)
      const grr = g0r * w0r + g0i * w0i + g1r * w1r + g1i * w1i + g2r * w2r + g2i * w2i + g3r * w3r + g3i * w3i;
      const gri = g0i * w0r - g0r * w0i + g1i * w1r - g1r * w1i + g2i * w2r - g2r * w2i + g3i * w3r - g3r * w3i;
      // g_den = −g_r · conj(r)² / 2
      const cr = 0.5 * (rr * rr - ri * ri),
        ci = -rr * ri;
      const gdr = -(grr * cr - gri * ci),
        gdi = -(grr * ci + gri * cr);
      gLr -= gdr * br + gdi * bi; // −g_den · conj(1 + z)
      gLi -= gdi * br - gdr * bi;
      gS2 += gdr * ar + gdi * ai; // Re(g_den · conj(1 − z))
    }
    gLam[2 * n] += gLr;
    gLam[2 * n + 1] += gLi;
    const gv = [v0r, v0i, v1r, v1i, v2r, v2i, v3r, v3i];
    for (let j = 0, m = m0; j < count; j++, m++) {
      gV[2 * ((h * M + m) * N + n)] = gv[2 * j];
      gV[2 * ((h * M + m) * N + n) + 1] = gv[2 * j + 1];
    }
  }
  return gS2;
}

/**
 * Backward, with gradients as complex numbers g = ∂loss/∂re + i·∂loss/∂im:
 *   g_v[m, n] = Σ_l g_S[m, l]·conj(r[n, l]);   g_r[n, l] = Σ_m g_S[m, l]·conj(v[m, n]);
 *   r = 2/den ⇒ g_den = −g_r·conj(r)²/2;       den = (2/Δ)(1 − z) − λ(1 + z) ⇒
 *   g_λ = −Σ_l g_den·conj(1 + z),  ∂/∂(2/Δ) = Σ Re(g_den·conj(1 − z)),  ∂/∂Δ = that · (−2/Δ²).
 * The points z are constants (their gradient is zero). g_λ and ∂/∂(2/Δ) are sums over the groups
 * of weights, in order, in float64.
 */
function backward(
  shapes: number[][],
  [lambda, v, step, z, g]: Float32Array[],
  [gLambda, gV, gStep]: Float32Array[],
  from: number,
  to: number,
): void {
  const { H, N, M, L } = sizes(shapes);
  const { aRe, aIm, bRe, bIm } = edges(z);
  const lam = new Float64Array(2 * N),
    w = new Float64Array(2 * N * GROUP),
    gLam = new Float64Array(2 * N);
  const gS = new Float64Array(2 * L * GROUP); // g_S of one group of row h as (L, 4) complex pairs
  for (let h = from; h < to; h++) {
    const s2 = 2 / step[h];
    gLam.fill(0);
    let gS2 = 0;
    for (let m0 = 0; m0 < M; m0 += GROUP) {
      packGroup(h, N, M, m0, lambda, v, lam, w);
      for (let j = 0, m = m0; j < GROUP; j++, m++) {
        for (let l = 0; l < L; l++) {
          gS[2 * (l * GROUP + j)] = m < M ? g[(h * M + m) * L + l] : 0;
          gS[2 * (l * GROUP + j) + 1] = m < M ? g[H * M * L + (h * M + m) * L + l] : 0;
        }
      }
      const count = Math.min(GROUP, M - m0);
      gS2 += backwardGroup(h, N, M, m0, count, L, s2, lam, w, gS, aRe, aIm, bRe, bIm, gLam, gV);
    }
    for (let i = 0; i < 2 * N; i++) gLambda[2 * h * N + i] = gLam[i];
    gStep[h] = (gS2 * -2) / (step[h] * step[h]);
  }
}

/** The forward kernel: one unit per row h. */
export const CAUCHY_HOST: HostKernelSpec = {
  name: CAUCHY,
  inputs: INPUTS,
  plan: (shapes) => {
    const { H, M, L } = sizes(shapes);
    return { outputs: [[2, H, M, L]], phases: [H] };
  },
  run: (_phase, b, from, to) => forward(b.shapes, b.ins, b.outs[0], from, to),
};

/** The backward kernel: one unit per row h (every gradient of row h is its own). */
export const CAUCHY_GRAD_HOST: HostKernelSpec = {
  name: CAUCHY_GRAD,
  inputs: [...INPUTS, "g"],
  plan: (shapes) => {
    const { H, N, M } = sizes(shapes);
    return { outputs: [[H, N, 2], [H, M, N, 2], [H]], phases: [H] };
  },
  run: (_phase, b, from, to) => backward(b.shapes, b.ins, b.outs, from, to),
};
