/** LayerNorm over the last axis, as a module with its learned scale and shift. */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg, checkPositive } from "../checks";
import { layerNorm } from "../kernels/layer-norm";
import { Module } from "./module";
import { formatShape } from "../shape-format";

/** Normalizes the last axis to zero mean and unit variance, then scales and shifts: (..., h). */
export class LayerNorm extends Module {
  readonly scale: tf.Variable; // (h)
  readonly bias: tf.Variable; // (h)
  constructor(
    readonly h: number,
    readonly eps = 1e-5,
  ) {
    super();
    checkIntArg("LayerNorm", "h", h);
    checkPositive("LayerNorm: eps", eps);
    this.scale = this.addParam("scale", new Float32Array(h).fill(1), [h]);
    this.bias = this.addParam("bias", new Float32Array(h), [h]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.h)
      throw new Error(`LayerNorm.forward: x must have last axis h = ${this.h}, got ${formatShape(x.shape)}`);
    return layerNorm(x, this.scale, this.bias, this.eps); // one fused kernel each way where one exists
  }
}
