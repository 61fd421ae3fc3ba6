/**
 * The selective scan of Mamba (the op `selective_scan_fn` computes):
 *
 *   δ = softplus(delta + deltaBias)      (bias and softplus optional)
 *   h_t = exp(δ_t A) ⊙ h_{t−1} + δ_t B_t u_t,   h_{−1} = 0   (ZOH for A, Euler for B)
 *   y_t = C_t · h_t + D u_t,  then y ← y · silu(z)          (D and z optional)
 *
 * per channel (b, d) with n states each. On backends with the fused kernels (cpu and wasm: host
 * loops on worker threads; webgpu: WGSL) the op runs kernel "SelectiveScan" and its gradient runs
 * "SelectiveScanGrad"; elsewhere it is the tf-ops reference, differentiated by tfjs autodiff.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { SCAN_GRAD_HOST, SCAN_HOST } from "./host";
import { SCAN_GRAD_KERNEL as GRAD_KERNEL, SCAN_INPUTS, SCAN_KERNEL as KERNEL } from "./names";
import "./webgpu";
import { selectiveScanReference } from "./reference";
import { checkSelectiveScanArgs, SelectiveScanOptions, SelectiveScanResult } from "./shapes";

export { selectiveScanReference } from "./reference";
export type { ScanMethod, SelectiveScanOptions, SelectiveScanResult } from "./shapes";

registerHostKernelSpec(SCAN_HOST);
registerHostKernelSpec(SCAN_GRAD_HOST);

/**
 * Runs the selective scan.
 *
 * u: (b, d, l), delta: (b, d, l), A: (d, n), B: (b, n, l), C: (b, n, l);
 * opts.D: (d), opts.z: (b, d, l), opts.deltaBias: (d), opts.deltaSoftplus (default false).
 * Returns y: (b, d, l) and lastState = h_{l−1}: (b, d, n). Both outputs are differentiable with
 * respect to every tensor argument.
 */
export function selectiveScan(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  opts: SelectiveScanOptions = {},
): SelectiveScanResult {
  const { d } = checkSelectiveScanArgs("selectiveScan", u, delta, A, B, C, opts);
  // The forward kernel is only usable with its gradient beside it.
  if (!hasKernel(KERNEL) || !hasKernel(GRAD_KERNEL)) return selectiveScanReference(u, delta, A, B, C, opts);
  return tf.tidy(() => {
    // Kernels take a fixed set of inputs: a missing D or bias is zeros (exactly equivalent); a
    // missing z is a placeholder that attr hasZ tells the kernel to ignore.
    const inputs = {
      u,
      delta,
      A,
      B,
      C,
      D: opts.D ?? tf.zeros([d]),
      z: opts.z ?? tf.zeros([1]),
      deltaBias: opts.deltaBias ?? tf.zeros([d]),
    };
    const attrs = { hasZ: opts.z !== undefined, deltaSoftplus: opts.deltaSoftplus ?? false, scan: opts.scan ?? "chunked" };
    const [y, lastState] = runKernel(KERNEL, inputs, attrs) as tf.Tensor[];
    return { y, lastState };
  });
}

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: [...SCAN_INPUTS],
  gradFunc: (dys, saved, attrs) => {
    // tfjs hands zeros for an output that does not reach the loss, so both are always tensors.
    const [dy, dLast] = dys as tf.Tensor[];
    const inputs: Record<string, tf.Tensor> = { dy, dLast };
    SCAN_INPUTS.forEach((name, i) => (inputs[name] = saved[i]));
    const grads = runKernel(GRAD_KERNEL, inputs, attrs as Record<string, boolean | string>) as tf.Tensor[];
    const out: Record<string, () => tf.Tensor> = {};
    SCAN_INPUTS.forEach((name, i) => (out[name] = () => grads[i]));
    return out;
  },
});
