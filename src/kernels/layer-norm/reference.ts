/**
 * Layer normalization in plain tf ops: the twin the kernels are tested against, and the path taken
 * on backends without a kernel (tfjs-node, or S4_KERNELS=reference). eps is made by tf.fill, which
 * on WebGPU writes it on the device (the value travels as a uniform) rather than as a host scalar
 * uploaded each call. A recomputed op (recompute-grad.ts): the backward pass keeps x, scale and
 * bias, not the centred and scaled copies of x autodiff would.
 */
import * as tf from "@tensorflow/tfjs";
import { recomputedOp } from "../../recompute-grad";
import { checkArgs } from "./spec";

/** One recomputed op per eps in use (a model uses one or two). */
const byEps = new Map<number, (...xs: tf.Tensor[]) => tf.Tensor>();

function layerNormOp(eps: number): (...xs: tf.Tensor[]) => tf.Tensor {
  let op = byEps.get(eps);
  if (!op) {
    op = recomputedOp((x, scale, bias) => {
      const { mean, variance } = tf.moments(x, -1, true); // (..., 1) each
      const sd = tf.sqrt(tf.add(variance, tf.fill([], eps, "float32")));
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), sd), scale), bias);
    });
    byEps.set(eps, op);
  }
  return op;
}

/** (x − μ)/√(σ² + eps) · scale + bias over the last axis: x (..., h), scale (h), bias (h) → (..., h). */
export function layerNormReference(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  checkArgs("layerNormReference", x, scale, bias, eps);
  return layerNormOp(eps)(x, scale, bias);
}
