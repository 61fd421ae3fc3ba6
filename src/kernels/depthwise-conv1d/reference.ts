/**
 * The causal depthwise convolution in plain tf ops: the slow twin that the kernels are tested
 * against, and the path taken on backends without a kernel (e.g. tfjs-node).
 *
 * Only pad, slice, mul and add — no gather (its gradient needs UnsortedSegmentSum) and no conv op
 * (wasm has no conv backward) — so autodiff works on every backend. k is small (Mamba uses 4),
 * so k shifted products cost little.
 */
import * as tf from "@tensorflow/tfjs";
import { checkArgs } from "./spec";

/** y[b, c, t] = bias[c] + Σ_j w[c, j] · x[b, c, t − (k − 1) + j]. x: (b, d, l), w: (d, k), bias: (d) → (b, d, l). */
export function causalDepthwiseConv1dReference(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor3D {
  const { b, d, l, k } = checkArgs("causalDepthwiseConv1dReference", x, w, bias);
  return tf.tidy(() => {
    const padded = tf.pad(x, [[0, 0], [0, 0], [k - 1, 0]]); // (b, d, l + k − 1): k − 1 zeros before t = 0
    let y: tf.Tensor = bias ? tf.reshape(bias, [d, 1]) : tf.zeros([d, 1]); // (d, 1), broadcast below
    for (let j = 0; j < k; j++) {
      const tap = tf.slice(w, [0, j], [d, 1]); // (d, 1)
      const shifted = tf.slice(padded, [0, 0, j], [b, d, l]); // (b, d, l): x moved right by k − 1 − j
      y = tf.add(y, tf.mul(tap, shifted));
    }
    return y as tf.Tensor3D; // (b, d, l): the first product broadcast the (d, 1) start
  });
}
