/**
 * GELU, tanh form, as one differentiable op (see spec.ts): one kernel forward and one backward
 * where the active backend has them (cpu, wasm: host loops on worker threads; webgpu: WGSL), the
 * plain-tf-ops reference elsewhere.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { geluReference } from "./reference";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { GELU_GRAD_HOST, GELU_HOST } from "./host";
import "./webgpu";

export { geluReference };

registerHostKernelSpec(GELU_HOST);
registerHostKernelSpec(GELU_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const dx = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor;
    return { x: () => dx };
  },
});

/** GELU: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) elementwise; x (any shape) → the shape of x. */
export function gelu(x: tf.Tensor): tf.Tensor {
  checkArgs("gelu", x);
  // The forward kernel is only usable with its gradient beside it; an empty x needs no kernel.
  if (x.size === 0 || !hasKernel(KERNEL) || !hasKernel(GRAD_KERNEL)) return geluReference(x);
  return runKernel(KERNEL, { x }) as tf.Tensor;
}
