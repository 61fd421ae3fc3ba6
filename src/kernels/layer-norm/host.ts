/** Layer normalization on the host (cpu and wasm): one pass per row, every sum in float64. */
import { Attrs, HostInput, HostOutput, registerHostKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

/** μ and r = 1/√(σ² + eps) of the row of x (h) starting at `base`, σ² from a second pass. */
function rowStats(xv: Float32Array, base: number, h: number, eps: number): { mean: number; rstd: number } {
  let sum = 0;
  for (let j = 0; j < h; j++) sum += xv[base + j];
  const mean = sum / h;
  let sq = 0;
  for (let j = 0; j < h; j++) {
    const d = xv[base + j] - mean;
    sq += d * d;
  }
  return { mean, rstd: 1 / Math.sqrt(sq / h + eps) };
}

/** y = (x − μ)·r · scale + bias, row by row. Inputs x (rows·h), scale (h), bias (h). */
function forward([x, scale, bias]: HostInput[], attrs: Attrs): HostOutput {
  const h = scale.shape[0], eps = attrs.eps as number;
  const xv = x.values, sv = scale.values, bv = bias.values, y = new Float32Array(xv.length);
  for (let base = 0; base < xv.length; base += h) {
    const { mean, rstd } = rowStats(xv, base, h, eps);
    for (let j = 0; j < h; j++) y[base + j] = (xv[base + j] - mean) * rstd * sv[j] + bv[j];
  }
  return { values: y, shape: x.shape };
}

/**
 * Inputs dy, x (rows·h), scale (h) → [dx, dscale, dbias]: per row, with g = dy·scale,
 * dx = r(g − mean(g) − x̂·mean(g·x̂)); dscale and dbias sum dy·x̂ and dy over the rows.
 */
function backward([dy, x, scale]: HostInput[], attrs: Attrs): HostOutput[] {
  const h = scale.shape[0], eps = attrs.eps as number;
  const gv = dy.values, xv = x.values, sv = scale.values;
  const dx = new Float32Array(xv.length), dscale = new Float64Array(h), dbias = new Float64Array(h);
  const xhat = new Float64Array(h);
  for (let base = 0; base < xv.length; base += h) {
    const { mean, rstd } = rowStats(xv, base, h, eps);
    let sumG = 0, sumGX = 0;
    for (let j = 0; j < h; j++) {
      const d = gv[base + j], xh = (xv[base + j] - mean) * rstd, g = d * sv[j];
      xhat[j] = xh;
      sumG += g;
      sumGX += g * xh;
      dscale[j] += d * xh;
      dbias[j] += d;
    }
    const meanG = sumG / h, meanGX = sumGX / h;
    for (let j = 0; j < h; j++) dx[base + j] = rstd * (gv[base + j] * sv[j] - meanG - xhat[j] * meanGX);
  }
  return [
    { values: dx, shape: x.shape },
    { values: Float32Array.from(dscale), shape: [h] },
    { values: Float32Array.from(dbias), shape: [h] },
  ];
}

registerHostKernel(KERNEL, ["x", "scale", "bias"], forward);
registerHostKernel(GRAD_KERNEL, ["dy", "x", "scale"], backward);
