/**
 * GELU in its tanh form (Hendrycks & Gimpel, 2016), shared by its implementations:
 *
 *   y  = ½x(1 + t),  t = tanh(u),  u = √(2/π)(x + 0.044715x³)
 *   y′ = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
 *
 * The fused kernels compute y in one pass and dx = dy·y′ in one pass, instead of some ten small
 * ops (four of them with a scalar made on the host) forward and more backward.
 */
import * as tf from "@tensorflow/tfjs";
import { checkFloat32Tensors } from "../float32-tensors";

export { GELU_CUBIC, GELU_SCALE, GRAD_KERNEL, KERNEL } from "./names";

/** Checks that x is a float32 tf.Tensor; `fn` names the public function in the error. */
export function checkArgs(fn: string, x: tf.Tensor): void {
  checkFloat32Tensors(fn, { x });
}
