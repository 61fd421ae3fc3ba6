/**
 * What the causal convolution is, shared by its implementations: the kernel names and the
 * argument check.
 *
 *   y[..., h, t] = Σ_{j ≤ t} k[h, j] · u[..., h, t − j]
 *
 * u: (..., h, l), k: (h, l) — k's shape is a suffix of u's, shared by every leading (batch)
 * index. This is the CNN view of an SSM: k is the SSM kernel K̄, as long as the sequence.
 */
import * as tf from "@tensorflow/tfjs";
import { checkFloat32Tensors } from "../float32-tensors";
import { formatShape } from "../../shape-format";

export { GRAD_KERNEL, KERNEL } from "./names";

/**
 * Checks u: (..., l) and k: a suffix of u's shape, both float32 tensors, and returns the length l,
 * the number of rows of u and of k. `fn` names the public function in the error.
 */
export function checkArgs(fn: string, u: tf.Tensor, k: tf.Tensor): { l: number; rows: number; kRows: number } {
  checkFloat32Tensors(fn, { u, k });
  const us = u.shape,
    ks = k.shape;
  if (us.length < 1) throw new Error(`${fn}: u must have at least one axis (..., l), got a scalar`);
  const suffix = us.slice(us.length - ks.length);
  if (ks.length === 0 || ks.length > us.length || suffix.join() !== ks.join()) {
    throw new Error(
      `${fn}: k (shape ${formatShape(ks)}) must match the trailing axes of u (shape ${formatShape(us)}), e.g. u: (b, h, l) with k: (h, l)`,
    );
  }
  const l = us[us.length - 1];
  return { l, rows: l === 0 ? 0 : u.size / l, kRows: l === 0 ? 0 : k.size / l };
}
