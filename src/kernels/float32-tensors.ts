/** The argument check that every kernel's inputs share: each is a float32 tf.Tensor. */
import * as tf from "@tensorflow/tfjs";

/**
 * Throws unless every value of `named` (argument name → value, checked in order) is a float32
 * tf.Tensor; `fn` names the public function in the error.
 */
export function checkFloat32Tensors(fn: string, named: Record<string, unknown>): void {
  for (const [name, t] of Object.entries(named)) {
    if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tf.Tensor, got ${t === null ? "null" : typeof t}`);
    if (t.dtype !== "float32") throw new Error(`${fn}: ${name} must be float32, got ${t.dtype}`);
  }
}
