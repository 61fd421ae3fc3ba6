/**
 * Mamba's short causal depthwise convolution, as one differentiable op:
 * x: (b, d, l), w: (d, k), bias: (d) → y: (b, d, l) with
 *   y[b, c, t] = bias[c] + Σ_{j<k} w[c, j] · x[b, c, t − (k − 1) + j]   (x is zero before t = 0).
 *
 * Runs a hand-written kernel where one exists for the active backend (cpu, wasm: host loops on
 * worker threads; webgpu: WGSL) and the plain-tf-ops reference elsewhere. The gradient of the
 * kernel is a second kernel that returns dx, dw and dbias in one call.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { causalDepthwiseConv1dReference } from "./reference";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { DEPTHWISE_CONV1D_GRAD_HOST, DEPTHWISE_CONV1D_HOST } from "./host";
import "./webgpu";

export { causalDepthwiseConv1dReference };

registerHostKernelSpec(DEPTHWISE_CONV1D_HOST);
registerHostKernelSpec(DEPTHWISE_CONV1D_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["x", "w"],
  gradFunc: (dy, saved) => {
    const [x, w] = saved;
    // One backward call for all three gradients, made here rather than inside the closures: tfjs
    // runs each closure in its own tidy scope, which would free the outputs the others return.
    const [dx, dw, dbias] = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor, x, w }) as tf.Tensor[];
    return { x: () => dx, w: () => dw, bias: () => dbias };
  },
});

/**
 * Causal depthwise 1-D convolution (each channel with its own k taps, no mixing across channels).
 * x: (b, d, l), w: (d, k), optional bias: (d) → (b, d, l). Differentiable in x, w and bias.
 */
export function causalDepthwiseConv1d(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor3D {
  const { d } = checkArgs("causalDepthwiseConv1d", x, w, bias);
  // The forward kernel is only usable with its gradient beside it.
  if (!hasKernel(KERNEL) || !hasKernel(GRAD_KERNEL)) return causalDepthwiseConv1dReference(x, w, bias);
  // The kernel always takes a bias; a zero one costs a d-sized tensor.
  if (bias) return runKernel(KERNEL, { x, w, bias }) as tf.Tensor3D;
  return tf.tidy(() => runKernel(KERNEL, { x, w, bias: tf.zeros([d]) }) as tf.Tensor3D);
}
