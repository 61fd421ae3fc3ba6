/** The gated linear unit in plain tf ops: the twin the kernels are tested against, and the path
 * taken on backends without a kernel (e.g. tfjs-node). */
import * as tf from "@tensorflow/tfjs";
import { checkArgs } from "./spec";

/** x (..., 2h) = [a | g] → a · σ(g) (..., h). */
export function gluReference(x: tf.Tensor): tf.Tensor {
  checkArgs("gluReference", x);
  return tf.tidy(() => {
    const [a, g] = tf.split(x, 2, -1);
    return tf.mul(a, tf.sigmoid(g));
  });
}
