/**
 * The causal depthwise convolution on the host (cpu and wasm backends), as host kernels
 * (host-kernel.ts) that run on worker threads: typed-array loops over rows (b, c) of length l,
 * the taps that would read before t = 0 skipped rather than padded.
 *
 * Forward: one unit per row (b, c). Backward: one unit per channel c, which walks the rows of c in
 * every batch row: dx of those rows, and dw[c] and dbias[c], the sums over the batch, in order of
 * b — every output element has one owner, with no partial sums to reduce in a second phase.
 *
 * For k ≤ 4 (Mamba uses 4) each row is one pass with the last few values held in locals — one
 * load per element instead of k, about 3× faster than a loop over taps. Longer kernels take one
 * pass per tap.
 */
import { HostKernelSpec } from "../host-kernel";
import { GRAD_KERNEL, KERNEL } from "./names";

/** The k ≤ 4 taps of channel c, left-padded with zeros to four: w3 multiplies x[t], w0 x[t − 3]. */
function taps4(wv: Float32Array, c: number, K: number): [number, number, number, number] {
  const at = (back: number) => (back < K ? wv[c * K + K - 1 - back] : 0);
  return [at(3), at(2), at(1), at(0)];
}

/**
 * y[b, c, t] = bias[c] + Σ_j w[c, j] x[b, c, t − (k − 1) + j], rows r = b·d + c in [from, to).
 * x (b, d, l), w (d, k), bias (d) → y (b, d, l).
 */
function forwardRows(shapes: number[][], [xv, wv, bv]: Float32Array[], y: Float32Array, from: number, to: number): void {
  const [, D, L] = shapes[0];
  const K = shapes[1][1];
  const lag = K - 1;
  for (let r = from; r < to; r++) {
    const c = r % D,
      row = r * L,
      bc = bv[c];
    if (K <= 4) {
      const [w0, w1, w2, w3] = taps4(wv, c, K);
      let x3 = 0,
        x2 = 0,
        x1 = 0; // x[t − 3], x[t − 2], x[t − 1]: zero before t = 0
      for (let t = 0; t < L; t++) {
        const x0 = xv[row + t];
        y[row + t] = bc + w0 * x3 + w1 * x2 + w2 * x1 + w3 * x0;
        x3 = x2;
        x2 = x1;
        x1 = x0;
      }
    } else {
      y.fill(bc, row, row + L);
      // tap j reads x[t − lag + j], zero (skipped) for t < lag − j
      for (let j = 0; j < K; j++) {
        const wj = wv[c * K + j],
          shift = j - lag;
        for (let t = lag - j > 0 ? lag - j : 0; t < L; t++) y[row + t] += wj * xv[row + t + shift];
      }
    }
  }
}

/**
 * Channels c in [from, to) of the gradients. Inputs dy (b, d, l), x (b, d, l), w (d, k) →
 * [dx (b, d, l), dw (d, k), dbias (d)]:
 *   dx[b, c, s]  = Σ_j w[c, j] dy[b, c, s + (k − 1) − j]   (terms past t = l − 1 dropped)
 *   dw[c, j]     = Σ_{b, t} dy[b, c, t] x[b, c, t − (k − 1) + j]
 *   dbias[c]     = Σ_{b, t} dy[b, c, t]
 * The sums over the batch and time (dw, dbias) accumulate in float64: per row, then over b.
 */
function backwardChannels(shapes: number[][], [gv, xv, wv]: Float32Array[], [dx, dw, db]: Float32Array[], from: number, to: number): void {
  const [B, D, L] = shapes[1];
  const K = shapes[2][1];
  const lag = K - 1;
  const tw = new Float64Array(K); // dw[c, ·] of the channel, summed over b
  for (let c = from; c < to; c++) {
    const wo = c * K;
    tw.fill(0);
    let tb = 0;
    if (K <= 4) {
      const [w0, w1, w2, w3] = taps4(wv, c, K);
      for (let bi = 0; bi < B; bi++) {
        const row = (bi * D + c) * L;
        // dx[s] = w3 dy[s] + w2 dy[s + 1] + w1 dy[s + 2] + w0 dy[s + 3], walking back from the end
        let g3 = 0,
          g2 = 0,
          g1 = 0; // dy[s + 3], dy[s + 2], dy[s + 1]: zero past t = l − 1
        for (let s = L - 1; s >= 0; s--) {
          const g0 = gv[row + s];
          dx[row + s] = w3 * g0 + w2 * g1 + w1 * g2 + w0 * g3;
          g3 = g2;
          g2 = g1;
          g1 = g0;
        }
        // a3 pairs dy[t] with x[t], a0 with x[t − 3]; sums and window in locals, as in the forward
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0,
          sum = 0,
          x3 = 0,
          x2 = 0,
          x1 = 0;
        for (let t = 0; t < L; t++) {
          const g = gv[row + t],
            x0 = xv[row + t];
          a0 += g * x3;
          a1 += g * x2;
          a2 += g * x1;
          a3 += g * x0;
          sum += g;
          x3 = x2;
          x2 = x1;
          x1 = x0;
        }
        // tap j of a k-tap kernel is a[4 − k + j]
        if (K === 4) tw[0] += a0;
        if (K >= 3) tw[K - 3] += a1;
        if (K >= 2) tw[K - 2] += a2;
        tw[K - 1] += a3;
        tb += sum;
      }
    } else {
      for (let bi = 0; bi < B; bi++) {
        const row = (bi * D + c) * L;
        dx.fill(0, row, row + L);
        // tap j carries x[s] to y[s + lag − j], which exists for s < L − lag + j
        for (let j = 0; j < K; j++) {
          const wj = wv[wo + j],
            shift = lag - j;
          for (let s = 0; s < L - shift; s++) dx[row + s] += wj * gv[row + s + shift];
        }
        for (let j = 0; j < K; j++) {
          let acc = 0;
          for (let t = lag - j > 0 ? lag - j : 0; t < L; t++) acc += gv[row + t] * xv[row + t - lag + j];
          tw[j] += acc;
        }
        let sum = 0;
        for (let t = 0; t < L; t++) sum += gv[row + t];
        tb += sum;
      }
    }
    for (let j = 0; j < K; j++) dw[wo + j] = tw[j];
    db[c] = tb;
  }
}

/** The forward kernel: one unit per row (b, c). */
export const DEPTHWISE_CONV1D_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x", "w", "bias"],
  plan: ([x]) => ({ outputs: [x], phases: [x[0] * x[1]] }),
  run: (_phase, b, from, to) => forwardRows(b.shapes, b.ins, b.outs[0], from, to),
};

/** The backward kernel: one unit per channel c (its dx rows, dw row and dbias entry). */
export const DEPTHWISE_CONV1D_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy", "x", "w"],
  plan: ([, x, w]) => ({ outputs: [x, w, [x[1]]], phases: [x[1]] }),
  run: (_phase, b, from, to) => backwardChannels(b.shapes, b.ins, b.outs, from, to),
};
