/**
 * What the S4 kernel's last transform is, shared by its implementations: the kernel names and
 * the argument check.
 *
 *   y[..., j] = Re( (1/L) Σ_k (re + i·im)[..., k] · e^{+2πi jk/L} )
 *
 * the real part of the inverse DFT along the last axis, for any length L (784 = 2⁴·7² for MNIST).
 * Its gradient is the forward DFT of the cotangent g, over L: d re = Re(DFT g)/L,
 * d im = Im(DFT g)/L.
 */
import * as tf from "@tensorflow/tfjs";
import { checkFloat32Tensors } from "../float32-tensors";
import { formatShape } from "../../shape-format";

export { GRAD_KERNEL, KERNEL } from "./names";

/** Checks that re and im are float32 tensors of the same shape with at least one axis. */
export function checkArgs(fn: string, re: tf.Tensor, im: tf.Tensor): void {
  checkFloat32Tensors(fn, { re, im });
  if (re.rank < 1) throw new Error(`${fn}: re must have at least one axis (..., L), got a scalar`);
  if (re.shape.join() !== im.shape.join()) {
    throw new Error(`${fn}: re and im must have the same shape, got re ${formatShape(re.shape)} and im ${formatShape(im.shape)}`);
  }
}
