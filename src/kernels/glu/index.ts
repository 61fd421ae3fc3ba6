/**
 * The gated linear unit over the last axis as one differentiable op (see spec.ts): one kernel
 * forward and one backward where the active backend has them (cpu, wasm: host loops on worker
 * threads; webgpu: WGSL), the plain-tf-ops reference elsewhere.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { gluReference } from "./reference";
import { GRAD_KERNEL, KERNEL, checkArgs } from "./spec";
import { GLU_GRAD_HOST, GLU_HOST } from "./host";
import "./webgpu";

export { gluReference };

registerHostKernelSpec(GLU_HOST);
registerHostKernelSpec(GLU_GRAD_HOST);

tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const dx = runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor, x }, { half: (attrs as unknown as { half: number }).half }) as tf.Tensor;
    return { x: () => dx };
  },
});

/** x (..., 2h) = [a | g] (the two halves of the last axis) → a · σ(g) (..., h). */
export function glu(x: tf.Tensor): tf.Tensor {
  const half = checkArgs("glu", x);
  // The forward kernel is only usable with its gradient beside it; an empty x needs no kernel.
  if (x.size === 0 || !hasKernel(KERNEL) || !hasKernel(GRAD_KERNEL)) return gluReference(x);
  return runKernel(KERNEL, { x }, { half }) as tf.Tensor;
}
