/**
 * One AdamW update of one parameter as a single tfjs kernel: p, g and the packed moments mv in,
 * [pNew, mvNew] out, the constants as attributes (see spec.ts). On cpu and wasm one host loop
 * writes both outputs; on WebGPU two WGSL programs (moments, then the parameter) run with the
 * constants as uniforms, so a step uploads nothing. Elsewhere (e.g. tfjs-node) the tf-ops
 * reference runs. Not differentiable: it is an optimizer step, not part of a model.
 */
import * as tf from "@tensorflow/tfjs";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { adamwUpdateReference, freshScalar, referenceUpdate, ScalarMaker } from "./reference";
import { AdamWUpdateAttrs, KERNEL, SCALED_KERNEL, checkArgs } from "./spec";
import { ADAMW_HOST, ADAMW_SCALED_HOST } from "./host";
import "./webgpu";

registerHostKernelSpec(ADAMW_HOST);
registerHostKernelSpec(ADAMW_SCALED_HOST);

export { adamwUpdateReference };
export type { AdamWUpdateAttrs, ScalarMaker };

/** True when the active backend runs the update as one kernel (with a scale or without). */
export function hasFusedAdamW(scaled: boolean): boolean {
  return hasKernel(scaled ? SCALED_KERNEL : KERNEL);
}

/**
 * One AdamW step of one parameter: p (any shape), g (p's shape), mv (2, ...p's shape) = the first
 * and second moments stacked, and optionally a scalar `scale` multiplying g (≤ 0 or not finite:
 * skip, returning p and mv unchanged) → [pNew, mvNew], new tensors. `constant` makes the scalar
 * constants of the tf-ops path (unused where the kernel runs).
 */
export function adamwUpdate(
  p: tf.Tensor,
  g: tf.Tensor,
  mv: tf.Tensor,
  attrs: AdamWUpdateAttrs,
  scale?: tf.Scalar,
  constant: ScalarMaker = freshScalar,
): [tf.Tensor, tf.Tensor] {
  checkArgs("adamwUpdate", p, g, mv, attrs, scale);
  // an empty parameter would dispatch no GPU threads at all; tf ops handle it
  if (p.size === 0 || !hasFusedAdamW(scale !== undefined)) return referenceUpdate(p, g, mv, attrs, scale, constant);
  const inputs: Record<string, tf.Tensor> = scale ? { p, g, mv, scale } : { p, g, mv };
  return runKernel(scale ? SCALED_KERNEL : KERNEL, inputs, { ...attrs }) as [tf.Tensor, tf.Tensor];
}
