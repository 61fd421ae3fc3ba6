/**
 * The gated linear unit (Dauphin et al., 2017) over the last axis, shared by its implementations:
 *
 *   x (..., 2h) = [a | g]  →  y (..., h) = a · σ(g)
 *   da = dy · σ(g),  dg = dy · a · σ(g)(1 − σ(g))
 *
 * a and g are the two halves of the last axis, as tf.split(x, 2, -1) gives them. The fused
 * kernels read x in place (no split copies) and return dx (..., 2h) in one pass.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../../shape-format";
import { checkFloat32Tensors } from "../float32-tensors";

export { GRAD_KERNEL, KERNEL } from "./names";

/**
 * Checks that x is a float32 tf.Tensor of rank ≥ 1 whose last axis is even and ≥ 2, and returns
 * h, half the last axis. `fn` names the public function in the error.
 */
export function checkArgs(fn: string, x: tf.Tensor): number {
  checkFloat32Tensors(fn, { x });
  const last = x.shape[x.rank - 1];
  if (x.rank < 1 || last < 2 || last % 2 !== 0) {
    throw new Error(`${fn}: x must have shape (..., 2h) with an even last axis ≥ 2, got ${formatShape(x.shape)}`);
  }
  return last / 2;
}
