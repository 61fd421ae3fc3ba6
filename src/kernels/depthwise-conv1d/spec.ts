/**
 * What the causal depthwise convolution is, shared by its implementations: the kernel names and
 * the argument check.
 *
 *   y[b, c, t] = bias[c] + Σ_{j<k} w[c, j] · x[b, c, t − (k − 1) + j]   (x is zero before t = 0)
 *
 * Mamba runs this short convolution (k ≈ 4) over each channel of its expanded input before the
 * selective scan, so that every step also sees its few predecessors.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../../shape-format";
import { checkFloat32Tensors } from "../float32-tensors";

export { GRAD_KERNEL, KERNEL } from "./names";

/**
 * Checks x: (b, d, l), w: (d, k) and bias: (d), all float32 with every size ≥ 1, and returns the
 * sizes. `fn` names the public function in the error.
 */
export function checkArgs(fn: string, x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): { b: number; d: number; l: number; k: number } {
  checkFloat32Tensors(fn, { x, w, ...(bias === undefined ? {} : { bias }) });
  const xs = x.shape as number[],
    ws = w.shape as number[];
  if (xs.length !== 3 || xs.some((s) => s < 1)) {
    throw new Error(`${fn}: x must have shape (b, d, l) with every size ≥ 1, got ${formatShape(xs)}`);
  }
  const [b, d, l] = xs;
  if (ws.length !== 2 || ws[0] !== d || ws[1] < 1) {
    throw new Error(`${fn}: w must have shape (d, k) = (${d}, k ≥ 1) to match x ${formatShape(x.shape)}, got ${formatShape(w.shape)}`);
  }
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== d)) {
    throw new Error(`${fn}: bias must have shape (d) = (${d}) to match x ${formatShape(x.shape)}, got ${formatShape(bias.shape)}`);
  }
  return { b, d, l, k: ws[1] };
}
