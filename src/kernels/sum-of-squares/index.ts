/**
 * Σ x² over a whole tensor as one kernel (cpu, wasm: a host loop; webgpu: one WGSL program), and
 * tf.sum(tf.square(x)) elsewhere (e.g. tfjs-node). Differentiable: d/dx = 2x.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { KERNEL, checkArgs } from "./spec";
import { SUM_OF_SQUARES_HOST } from "./host";
import "./webgpu";

registerHostKernelSpec(SUM_OF_SQUARES_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => tf.mul(tf.mul(dy as tf.Tensor, 2), x) };
  },
});

/** The tf-ops twin: tf.sum(tf.square(x)). */
export function sumOfSquaresReference(x: tf.Tensor): tf.Scalar {
  checkArgs("sumOfSquaresReference", x);
  return tf.tidy(() => tf.sum(tf.square(x)));
}

/** Σ x² over every element of x (any shape, float32) → a scalar. */
export function sumOfSquares(x: tf.Tensor): tf.Scalar {
  checkArgs("sumOfSquares", x);
  // WebGPU cannot bind an empty buffer (nor does tfjs's own sum run there on one)
  if (x.size === 0) return tf.scalar(0);
  if (!hasKernel(KERNEL)) return tf.tidy(() => tf.sum(tf.square(x)));
  return runKernel(KERNEL, { x }) as tf.Scalar;
}
