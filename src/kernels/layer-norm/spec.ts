/**
 * Layer normalization over the last axis, shared by its implementations. For each row x (h) of
 * x (..., h), with the biased variance (as tf.moments):
 *
 *   μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + eps),  x̂ = (x − μ)·r
 *   y = x̂ · scale + bias
 *
 * Backward, with g = dy · scale:
 *   dx = r · (g − mean(g) − x̂ · mean(g · x̂))   (per row)
 *   dscale = Σ_rows dy · x̂,  dbias = Σ_rows dy   (over every row)
 *
 * One kernel forward and one backward (returning dx, dscale and dbias), instead of tf.moments and
 * six ops forward (with eps a host scalar) and some twenty backward.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../../shape-format";
import { checkFloat32Tensors } from "../float32-tensors";

export { GRAD_KERNEL, KERNEL } from "./names";

/**
 * Checks x (..., h) with h ≥ 1, scale (h), bias (h), all float32 tf.Tensors, and eps a finite
 * number ≥ 0; returns h. `fn` names the public function in the error.
 */
export function checkArgs(fn: string, x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor, eps: number): number {
  checkFloat32Tensors(fn, { x, scale, bias });
  if (x.rank < 1 || x.shape[x.rank - 1] < 1) throw new Error(`${fn}: x must have shape (..., h) with h ≥ 1, got ${formatShape(x.shape)}`);
  const h = x.shape[x.rank - 1];
  for (const [name, t] of [
    ["scale", scale],
    ["bias", bias],
  ] as const) {
    if (t.rank !== 1 || t.shape[0] !== h)
      throw new Error(`${fn}: ${name} must have shape (h) = (${h}) to match x ${formatShape(x.shape)}, got ${formatShape(t.shape)}`);
  }
  if (typeof eps !== "number" || !Number.isFinite(eps) || eps < 0)
    throw new Error(`${fn}: eps must be a finite number ≥ 0, got ${String(eps)}`);
  return h;
}
