/**
 * Inverted dropout whose mask is a pure function of a 32-bit seed and the element index (see
 * spec.ts). On cpu, wasm (host loops on worker threads) and webgpu the mask is computed inside
 * one kernel, never uploaded from the host; elsewhere (e.g. tfjs-node) the reference builds the
 * same mask on the host. Either way a seed gives the same mask on every backend, so a resumed run
 * replays the same dropout.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { KERNEL, dropoutAttrs, dropoutMaskValues } from "./spec";
import { DROPOUT_HOST } from "./host";
import "./webgpu";

export { dropoutMaskValues } from "./spec";

registerHostKernelSpec(DROPOUT_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  gradFunc: (dy, _saved, attrs) => {
    // y = x · mask, so dx = dy · mask: the same kernel with the same seed applied to dy.
    const g = runKernel(KERNEL, { x: dy as tf.Tensor }, attrs as unknown as Record<string, number>) as tf.Tensor;
    return { x: () => g };
  },
});

function checkArgs(x: tf.Tensor, rate: number, seed: number): void {
  if (!(x instanceof tf.Tensor) || x.dtype !== "float32")
    throw new Error(`seededDropout: x must be a float32 tf.Tensor, got ${x instanceof tf.Tensor ? x.dtype : typeof x}`);
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1))
    throw new Error(`seededDropout: rate must be a number in [0, 1), got ${String(rate)}`);
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new Error(`seededDropout: seed must be an integer, got ${String(seed)}`);
}

/** The tf-ops twin: the mask made on the host and multiplied in (differentiable as a product). */
export function seededDropoutReference(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  checkArgs(x, rate, seed);
  if (rate === 0) return x.clone();
  return tf.tidy(() => tf.mul(x, tf.tensor(dropoutMaskValues(x.size, rate, seed), x.shape)));
}

/**
 * Inverted dropout: each element of x (any shape) is zeroed with probability `rate` and the rest
 * are scaled by 1/(1 − rate); the mask depends only on (seed, index). Differentiable in x.
 */
export function seededDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  checkArgs(x, rate, seed);
  if (rate === 0) return x.clone();
  if (!hasKernel(KERNEL)) return seededDropoutReference(x, rate, seed);
  return runKernel(KERNEL, { x }, dropoutAttrs(rate, seed)) as tf.Tensor;
}
