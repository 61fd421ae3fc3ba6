/**
 * Root-mean-square normalization (Zhang & Sennrich, 2019), the norm of the Mamba residual stream:
 * y = x / √(mean(x²) + eps) · weight over the last axis. Unlike LayerNorm it neither centres x
 * nor adds a bias.
 */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg, checkPositive } from "../checks";
import { customOp1 } from "../custom-grad";
import { Module } from "./module";
import { formatShape } from "../shape-format";

/**
 * mean(x²) over the last axis, keeping it: (..., h) → (..., 1). The gradient 2x·dy/h is written
 * out because tfjs's gradient of tf.mean multiplies by a ones tensor of x's size made on the host,
 * an upload every step on a GPU; tf.fill makes the constant on the device.
 */
const meanSquare = customOp1((x, save) => {
  save([x]);
  const h = x.shape[x.rank - 1];
  return {
    value: tf.mean(tf.square(x), -1, true),
    gradFunc: (dy, [xs]) => tf.mul(tf.mul(dy, xs), tf.fill([], 2 / h)),
  };
});

export class RMSNorm extends Module {
  readonly weight: tf.Variable; // (h)
  constructor(
    readonly h: number,
    readonly eps = 1e-5,
  ) {
    super();
    checkIntArg("RMSNorm", "h", h);
    checkPositive("RMSNorm: eps", eps);
    this.weight = this.addParam("weight", new Float32Array(h).fill(1), [h]);
  }

  /** x (..., h) → (..., h). */
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.h)
      throw new Error(`RMSNorm.forward: x must have last axis h = ${this.h}, got ${formatShape(x.shape)}`);
    return tf.tidy(() => {
      const ms = meanSquare(x); // (..., 1)
      return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, tf.fill([], this.eps)))), this.weight);
    });
  }
}
