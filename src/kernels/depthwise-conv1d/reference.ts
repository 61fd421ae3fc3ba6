/**
 * The causal depthwise convolution in plain tf ops: the slow twin that the kernels are tested
 * against, and the path taken on backends without a kernel (tfjs-node, or S4_KERNELS=reference).
 *
 * Only pad, slice, mul and add — no gather (its gradient needs UnsortedSegmentSum) and no conv op
 * (wasm has no conv backward) — so autodiff works on every backend. k is small (Mamba uses 4),
 * so k shifted products cost little; as a recomputed op (recompute-grad.ts) the backward pass
 * keeps x alone rather than its k shifted copies.
 */
import * as tf from "@tensorflow/tfjs";
import { recomputedOp } from "../../recompute-grad";
import { checkArgs } from "./spec";

/** The sum of shifted products, from a start of (d, 1): the bias, or zeros. */
function shiftedTaps(x: tf.Tensor, w: tf.Tensor, start: tf.Tensor): tf.Tensor {
  const [b, d, l] = x.shape,
    k = w.shape[1] as number;
  const padded = tf.pad(x, [
    [0, 0],
    [0, 0],
    [k - 1, 0],
  ]); // (b, d, l + k − 1): k − 1 zeros before t = 0
  let y = start; // (d, 1), broadcast below
  for (let j = 0; j < k; j++) {
    const tap = tf.slice(w, [0, j], [d, 1]); // (d, 1)
    const shifted = tf.slice(padded, [0, 0, j], [b, d, l]); // (b, d, l): x moved right by k − 1 − j
    y = tf.add(y, tf.mul(tap, shifted));
  }
  return y; // (b, d, l): the first product broadcast the (d, 1) start
}

const withBias = recomputedOp((x, w, bias) => shiftedTaps(x, w, tf.reshape(bias, [-1, 1])));
const withoutBias = recomputedOp((x, w) => shiftedTaps(x, w, tf.zeros([w.shape[0], 1])));

/** y[b, c, t] = bias[c] + Σ_j w[c, j] · x[b, c, t − (k − 1) + j]. x: (b, d, l), w: (d, k), bias: (d) → (b, d, l). */
export function causalDepthwiseConv1dReference(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor3D {
  checkArgs("causalDepthwiseConv1dReference", x, w, bias);
  return (bias ? withBias(x, w, bias) : withoutBias(x, w)) as tf.Tensor3D;
}
