/** The gated linear unit in plain tf ops: the twin the kernels are tested against, and the path
 * taken on backends without a kernel (tfjs-node, or S4_KERNELS=reference). A recomputed op
 * (recompute-grad.ts): the backward pass keeps x alone, not its halves and σ(g). */
import * as tf from "@tensorflow/tfjs";
import { recomputedOp } from "../../recompute-grad";
import { checkArgs } from "./spec";

const gluRecomputed = recomputedOp((x) => {
  const [a, g] = tf.split(x, 2, -1);
  return tf.mul(a, tf.sigmoid(g));
});

/** x (..., 2h) = [a | g] → a · σ(g) (..., h). */
export function gluReference(x: tf.Tensor): tf.Tensor {
  checkArgs("gluReference", x);
  return gluRecomputed(x);
}
