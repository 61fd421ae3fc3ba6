/**
 * The last step of the S4 kernel as one differentiable op: the real part of the inverse DFT along
 * the last axis, for any length L.
 *
 * Runs a hand-written kernel where one exists for the active backend (cpu, wasm: float64 FFT on
 * the host; webgpu: a direct WGSL sum) and the matmul DFT of dft-matmul.ts elsewhere (e.g.
 * tfjs-node). The gradient is a second kernel, the forward DFT of the cotangent.
 */
import * as tf from "@tensorflow/tfjs";
import { matmulIrdft } from "../../dft-matmul";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { IRDFT_GRAD_HOST, IRDFT_HOST } from "./host";
import "./webgpu";

registerHostKernelSpec(IRDFT_HOST);
registerHostKernelSpec(IRDFT_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  gradFunc: (dy) => {
    // One backward call gives both gradients, stacked (2, ..., L). It runs here, not inside the
    // closures: tfjs calls each closure in its own tidy scope, which would free the other half.
    const both = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor }) as tf.Tensor;
    const [dre, dim] = tf.unstack(both);
    both.dispose();
    return { re: () => dre, im: () => dim };
  },
});

/**
 * y[..., j] = Re( (1/L) Σ_k (re + i·im)[..., k] e^{+2πi jk/L} ): re, im (..., L) → y (..., L).
 * Differentiable in re and im.
 */
export function irdft(re: tf.Tensor, im: tf.Tensor): tf.Tensor {
  checkArgs("irdft", re, im);
  if (hasKernel(KERNEL) && hasKernel(GRAD_KERNEL)) return runKernel(KERNEL, { re, im }) as tf.Tensor;
  return matmulIrdft(re, im);
}
