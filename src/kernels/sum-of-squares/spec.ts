/**
 * The sum of squares Σ x² of a whole tensor as one kernel (tf.sum(tf.square(x)) is two, and the
 * global gradient norm of a model needs one per parameter): x (any shape) → a scalar.
 */
import * as tf from "@tensorflow/tfjs";

export { KERNEL } from "./names";

/** Checks that x is a float32 tensor; `fn` names the public function in the error. */
export function checkArgs(fn: string, x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: x must be a tf.Tensor, got ${x === null ? "null" : typeof x}`);
  if (x.dtype !== "float32") throw new Error(`${fn}: x must be float32, got ${x.dtype}`);
}
