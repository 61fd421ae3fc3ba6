/**
 * The sum of squares Σ x² of a whole tensor as one kernel (tf.sum(tf.square(x)) is two, and the
 * global gradient norm of a model needs one per parameter): x (any shape) → a scalar.
 */
import * as tf from "@tensorflow/tfjs";
import { checkFloat32Tensors } from "../float32-tensors";

export { KERNEL } from "./names";

/** Checks that x is a float32 tensor; `fn` names the public function in the error. */
export function checkArgs(fn: string, x: tf.Tensor): void {
  checkFloat32Tensors(fn, { x });
}
