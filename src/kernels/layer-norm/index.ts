/**
 * Layer normalization over the last axis as one differentiable op (see spec.ts): one kernel
 * forward and one backward (dx, dscale and dbias in one call) where the active backend has them
 * (cpu, wasm: host loops on worker threads; webgpu: WGSL), the plain-tf-ops reference elsewhere.
 * eps is a kernel attribute, not a tensor.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { layerNormReference } from "./reference";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { LAYER_NORM_GRAD_HOST, LAYER_NORM_HOST } from "./host";
import "./webgpu";

export { layerNormReference };

registerHostKernelSpec(LAYER_NORM_HOST);
registerHostKernelSpec(LAYER_NORM_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["x", "scale"],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale] = saved;
    // One backward call gives all three gradients. It runs here, not inside the closures: tfjs
    // calls each closure in its own tidy scope, which would free the other outputs.
    const eps = (attrs as unknown as { eps: number }).eps;
    const [dx, dscale, dbias] = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor, x, scale }, { eps }) as tf.Tensor[];
    return { x: () => dx, scale: () => dscale, bias: () => dbias };
  },
});

/**
 * (x − μ)/√(σ² + eps) · scale + bias, with μ and σ² (biased) the mean and variance of each row
 * over the last axis: x (..., h), scale (h), bias (h) → (..., h). Differentiable in all three.
 */
export function layerNorm(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor, eps = 1e-5): tf.Tensor {
  checkArgs("layerNorm", x, scale, bias, eps);
  // The forward kernel is only usable with its gradient beside it; an empty x needs no kernel.
  if (x.size === 0 || !hasKernel(KERNEL) || !hasKernel(GRAD_KERNEL)) return layerNormReference(x, scale, bias, eps);
  return runKernel(KERNEL, { x, scale, bias }, { eps }) as tf.Tensor;
}
