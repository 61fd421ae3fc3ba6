/**
 * Layer normalization in plain tf ops: the twin the kernels are tested against, and the path taken
 * on backends without a kernel (e.g. tfjs-node). eps is made by tf.fill, which on WebGPU writes it
 * on the device (the value travels as a uniform) rather than as a host scalar uploaded each call.
 */
import * as tf from "@tensorflow/tfjs";
import { checkArgs } from "./spec";

/** (x − μ)/√(σ² + eps) · scale + bias over the last axis: x (..., h), scale (h), bias (h) → (..., h). */
export function layerNormReference(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  checkArgs("layerNormReference", x, scale, bias, eps);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // (..., 1) each
    const sd = tf.sqrt(tf.add(variance, tf.fill([], eps, "float32")));
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), sd), scale), bias);
  });
}
