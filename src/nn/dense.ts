/** The dense (fully connected) layer of the models' encoders, decoders and output projections. */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg } from "../checks";
import { seededNormal, subSeed } from "../random";
import { matMul2d } from "./linear";
import { Module } from "./module";
import { formatShape } from "../shape-format";

/** y = x W + b on the last axis: (..., in) → (..., out); W (in, out) ~ N(0, 1/in), b = 0. */
export class Dense extends Module {
  readonly kernel: tf.Variable; // (in, out)
  readonly bias: tf.Variable; // (out)
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    seed = 0,
  ) {
    super();
    checkIntArg("Dense", "inFeatures", inFeatures);
    checkIntArg("Dense", "outFeatures", outFeatures);
    const std = 1 / Math.sqrt(inFeatures);
    this.kernel = this.addParam("kernel", seededNormal(inFeatures * outFeatures, subSeed(seed, "kernel"), std), [inFeatures, outFeatures]);
    this.bias = this.addParam("bias", new Float32Array(outFeatures), [outFeatures]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures)
      throw new Error(`Dense.forward: x must have last axis ${this.inFeatures}, got ${formatShape(x.shape)}`);
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D; // (N, in)
      const y = tf.add(matMul2d(flat, this.kernel as tf.Tensor2D), this.bias); // (N, out)
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}
