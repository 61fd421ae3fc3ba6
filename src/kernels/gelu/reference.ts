/**
 * GELU (tanh form) in plain tf ops: the twin the kernels are tested against, and the path taken
 * on backends without a kernel (tfjs-node, or S4_KERNELS=reference). x³ as products (tf.pow is
 * ~40× slower on wasm). The constants are made by tf.fill, which on WebGPU writes them on the
 * device (the value travels as a uniform), rather than as host scalars uploaded on every call.
 * A recomputed op (recompute-grad.ts): the backward pass keeps x alone, not the half-dozen
 * x-sized intermediates autodiff would.
 */
import * as tf from "@tensorflow/tfjs";
import { recomputedOp } from "../../recompute-grad";
import { GELU_CUBIC, GELU_SCALE, checkArgs } from "./spec";

const geluRecomputed = recomputedOp((x) => {
  const c = (v: number) => tf.fill([], v, "float32");
  const u = tf.mul(c(GELU_SCALE), tf.add(x, tf.mul(c(GELU_CUBIC), tf.mul(tf.mul(x, x), x))));
  return tf.mul(tf.mul(c(0.5), x), tf.add(c(1), tf.tanh(u)));
});

/** ½x(1 + tanh(√(2/π)(x + 0.044715x³))) elementwise: x (any shape) → the shape of x. */
export function geluReference(x: tf.Tensor): tf.Tensor {
  checkArgs("geluReference", x);
  return geluRecomputed(x);
}
