/**
 * Layer normalization on the host (cpu and wasm), every sum in float64. The threads share the
 * rows in blocks of fixed size; the backward pass's sums over rows (dscale, dbias) are written per
 * block into scratch and added up, block by block in order, by a second phase over the channels,
 * so that they are the same at any thread count.
 */
import { HostKernelSpec, rowsPerUnit, sizeOf } from "../host-kernel";
import { GRAD_KERNEL, KERNEL } from "./names";

/** Rows (..., h) of x, the rows a block, the blocks, from the shape alone (never the thread count). */
function blocksOf(shape: number[]): { h: number; rows: number; per: number; blocks: number } {
  const h = shape[shape.length - 1],
    size = sizeOf(shape);
  const rows = size === 0 ? 0 : size / h,
    per = rowsPerUnit(h);
  return { h, rows, per, blocks: Math.ceil(rows / per) };
}

/** Channels a unit of the backward's second phase (each channel adds `blocks` partials for dscale, as many for dbias). */
const channelsPerUnit = (blocks: number) => rowsPerUnit(2 * blocks);

// The row sums use four accumulators (two in the backward's fused loop): a single running sum
// is a chain of dependent additions, which at h = 32 costs more than the loads. rowMean and
// rowRstd share that unrolling but not their terms (x, then (x − μ)²), so they stay two loops.

/** The mean of the row x[base, base + h). */
function rowMean(x: Float32Array, base: number, h: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    j = base;
  const end = base + h;
  for (; j + 4 <= end; j += 4) {
    s0 += x[j];
    s1 += x[j + 1];
    s2 += x[j + 2];
    s3 += x[j + 3];
  }
  for (; j < end; j++) s0 += x[j];
  return (s0 + s1 + (s2 + s3)) / h;
}

/** 1/√(σ² + eps) of the row x[base, base + h) with mean μ, σ² from this second pass. */
function rowRstd(x: Float32Array, base: number, h: number, mean: number, eps: number): number {
  let q0 = 0,
    q1 = 0,
    q2 = 0,
    q3 = 0,
    j = base;
  const end = base + h;
  for (; j + 4 <= end; j += 4) {
    const d0 = x[j] - mean,
      d1 = x[j + 1] - mean,
      d2 = x[j + 2] - mean,
      d3 = x[j + 3] - mean;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
  }
  for (; j < end; j++) {
    const d = x[j] - mean;
    q0 += d * d;
  }
  return 1 / Math.sqrt((q0 + q1 + (q2 + q3)) / h + eps);
}

/** y = (x − μ)·r · scale + bias for the rows [r0, r1). x, y (rows, h); scale, bias (h). */
function forward(
  x: Float32Array,
  scale: Float32Array,
  bias: Float32Array,
  y: Float32Array,
  h: number,
  eps: number,
  r0: number,
  r1: number,
): void {
  for (let base = r0 * h; base < r1 * h; base += h) {
    const mean = rowMean(x, base, h),
      rstd = rowRstd(x, base, h, mean, eps);
    for (let j = 0; j < h; j++) y[base + j] = (x[base + j] - mean) * rstd * scale[j] + bias[j];
  }
}

/**
 * dx of the rows [r0, r1) (with g = dy·scale, dx = r(g − mean(g) − x̂·mean(g·x̂))), and this
 * block's sums over those rows of dy·x̂ and dy into `partial` (2h): [dscale | dbias].
 */
function backwardRows(
  dy: Float32Array,
  x: Float32Array,
  scale: Float32Array,
  dx: Float32Array,
  partial: Float64Array,
  h: number,
  eps: number,
  r0: number,
  r1: number,
): void {
  const xhat = new Float64Array(h),
    g = new Float64Array(h);
  for (let base = r0 * h; base < r1 * h; base += h) {
    const mean = rowMean(x, base, h),
      rstd = rowRstd(x, base, h, mean, eps);
    // Σ g and Σ g·x̂ over the row, two elements at a time; x̂ and g kept for dx
    let sumG0 = 0,
      sumG1 = 0,
      sumGX0 = 0,
      sumGX1 = 0,
      j = 0;
    for (; j + 2 <= h; j += 2) {
      const d0 = dy[base + j],
        d1 = dy[base + j + 1];
      const xh0 = (x[base + j] - mean) * rstd,
        xh1 = (x[base + j + 1] - mean) * rstd;
      const g0 = d0 * scale[j],
        g1 = d1 * scale[j + 1];
      xhat[j] = xh0;
      xhat[j + 1] = xh1;
      g[j] = g0;
      g[j + 1] = g1;
      sumG0 += g0;
      sumG1 += g1;
      sumGX0 += g0 * xh0;
      sumGX1 += g1 * xh1;
      partial[j] += d0 * xh0;
      partial[j + 1] += d1 * xh1;
      partial[h + j] += d0;
      partial[h + j + 1] += d1;
    }
    if (j < h) {
      const d = dy[base + j],
        xh = (x[base + j] - mean) * rstd,
        gj = d * scale[j];
      xhat[j] = xh;
      g[j] = gj;
      sumG0 += gj;
      sumGX0 += gj * xh;
      partial[j] += d * xh;
      partial[h + j] += d;
    }
    const meanG = (sumG0 + sumG1) / h,
      meanGX = (sumGX0 + sumGX1) / h;
    for (let k = 0; k < h; k++) dx[base + k] = rstd * (g[k] - meanG - xhat[k] * meanGX);
  }
}

/** dscale[j], dbias[j] for the channels [c0, c1): the blocks' partials (blocks, 2h), added in block order. */
function reducePartials(
  partials: Float64Array,
  dscale: Float32Array,
  dbias: Float32Array,
  h: number,
  blocks: number,
  c0: number,
  c1: number,
): void {
  for (let j = c0; j < c1; j++) {
    let s = 0,
      b = 0;
    for (let k = 0; k < blocks; k++) {
      s += partials[k * 2 * h + j];
      b += partials[k * 2 * h + h + j];
    }
    dscale[j] = s;
    dbias[j] = b;
  }
}

export const LAYER_NORM_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x", "scale", "bias"],
  plan: ([shape]) => ({ outputs: [shape], phases: [blocksOf(shape).blocks] }),
  run: (_phase, b, from, to) => {
    const { h, rows, per } = blocksOf(b.shapes[0]);
    forward(b.ins[0], b.ins[1], b.ins[2], b.outs[0], h, b.attrs.eps as number, from * per, Math.min(to * per, rows));
  },
};

/** Phase 0: blocks of rows (dx, and each block's partial sums); phase 1: blocks of channels (dscale, dbias). */
export const LAYER_NORM_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy", "x", "scale"],
  plan: ([, shape]) => {
    const { h, blocks } = blocksOf(shape);
    return { outputs: [shape, [h], [h]], scratch: [blocks * 2 * h], phases: [blocks, Math.ceil(h / channelsPerUnit(blocks))] };
  },
  run: (phase, b, from, to) => {
    const { h, rows, per, blocks } = blocksOf(b.shapes[1]);
    const [dy, x, scale] = b.ins,
      [dx, dscale, dbias] = b.outs,
      partials = b.scratch[0],
      eps = b.attrs.eps as number;
    if (phase === 0) {
      for (let k = from; k < to; k++) {
        backwardRows(dy, x, scale, dx, partials.subarray(k * 2 * h, (k + 1) * 2 * h), h, eps, k * per, Math.min((k + 1) * per, rows));
      }
    } else {
      const c = channelsPerUnit(blocks);
      reducePartials(partials, dscale, dbias, h, blocks, from * c, Math.min(to * c, h));
    }
  },
};
