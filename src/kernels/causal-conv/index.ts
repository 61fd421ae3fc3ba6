/**
 * The causal convolution y = k ⊛ u of the SSM's CNN view as one differentiable op:
 * u: (..., h, l), k: (h, l) → y: (..., h, l), y[t] = Σ_{j ≤ t} k[j] u[t − j].
 *
 * Runs a hand-written kernel where one exists for the active backend (cpu, wasm: float64 FFT on
 * the host; webgpu: a direct WGSL sum) and the matmul DFT of dft-matmul.ts elsewhere (e.g.
 * tfjs-node), recomputed in the backward pass (reference.ts). The kernel's gradient is a second
 * kernel that returns du and dk in one call.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { causalConvReference, directCausalConv } from "./reference";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { CAUSAL_CONV_GRAD_HOST, CAUSAL_CONV_HOST } from "./host";
import "./webgpu";

export { causalConvReference, directCausalConv };

registerHostKernelSpec(CAUSAL_CONV_HOST);
registerHostKernelSpec(CAUSAL_CONV_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["u", "k"],
  gradFunc: (dy, saved) => {
    const [u, k] = saved;
    // One backward call gives both gradients. It runs here, not inside the closures: tfjs calls
    // each closure in its own tidy scope, which would free the other output.
    const [du, dk] = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor, u, k }) as tf.Tensor[];
    return { u: () => du, k: () => dk };
  },
});

/**
 * Causal convolution y[..., h, t] = Σ_{j ≤ t} k[h, j] · u[..., h, t − j].
 * u: (..., h, l), k: (h, l) — k's shape must equal the trailing axes of u's (it is shared over the
 * leading batch axes) → y: shape of u. Differentiable in u and k.
 */
export function causalConv(u: tf.Tensor, k: tf.Tensor): tf.Tensor {
  checkArgs("causalConv", u, k);
  if (hasKernel(KERNEL) && hasKernel(GRAD_KERNEL)) return runKernel(KERNEL, { u, k }) as tf.Tensor;
  return causalConvReference(u, k);
}
