/** The CNN mode that every SSM layer shares: a causal convolution with the layer's kernel plus a skip. */
import * as tf from "@tensorflow/tfjs";
import { causalConvolution } from "../ssm";

/**
 * y = K̄ ⊛ u + D·u with u: (b, l, h), K: (h, l), D: (h), convolving along l in the (b, h, l)
 * layout the kernels take.
 */
export function convolveWithSkip(u: tf.Tensor, K: tf.Tensor, D: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const y = causalConvolution(tf.transpose(u, [0, 2, 1]), K); // (b, h, l)
    return tf.add(tf.transpose(y, [0, 2, 1]), tf.mul(u, D)); // (b, l, h)
  });
}
