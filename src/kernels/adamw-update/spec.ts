/**
 * What one fused AdamW update is, shared by its implementations: the kernel names, the attributes
 * and the argument check.
 *
 * Inputs p (any shape, S elements), g (p's shape), mv: (2, ...p's shape) — the first moment m in
 * mv[0] and the second moment v in mv[1] — and, for the clipped form, a scalar `scale` that
 * multiplies g. With g' = scale·g:
 *   m ← β1·m + (1 − β1)·g'
 *   v ← β2·v + (1 − β2)·g'²
 *   p ← p − lr·( (m/bc1) / (√v/√bc2 + ε) + wd·p )     (p on the right is the old value)
 * where bc1 = 1 − β1^t and bc2 = 1 − β2^t are the bias corrections of step t. A scale ≤ 0 or not
 * finite (the clipper's way of saying that the gradient norm was not finite) skips the update:
 * p and mv come back unchanged. Outputs [pNew, mvNew].
 *
 * The constants are attributes (uniforms on WebGPU), so a step uploads nothing from the host.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../../shape-format";
import { checkFloat32Tensors } from "../float32-tensors";

export { KERNEL, SCALED_KERNEL, skipsUpdate } from "./names";

/** The numbers of one update of one parameter (group). */
export type AdamWUpdateAttrs = {
  /** This parameter's learning rate (the scheduled rate times its group's multiplier). */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay coefficient. */
  weightDecay: number;
  /** 1 − β1^t */
  bc1: number;
  /** 1 − β2^t */
  bc2: number;
};

export const ATTR_NAMES = ["lr", "beta1", "beta2", "eps", "weightDecay", "bc1", "bc2"] as const;

/** Checks the tensors and attributes of `fn` (named in the errors). */
export function checkArgs(fn: string, p: tf.Tensor, g: tf.Tensor, mv: tf.Tensor, attrs: AdamWUpdateAttrs, scale?: tf.Tensor): void {
  checkFloat32Tensors(fn, { p, g, mv, ...(scale === undefined ? {} : { scale }) });
  if (!tf.util.arraysEqual(g.shape, p.shape))
    throw new Error(`${fn}: g must have p's shape ${formatShape(p.shape)}, got ${formatShape(g.shape)}`);
  if (!(mv.shape[0] === 2 && tf.util.arraysEqual(mv.shape.slice(1), p.shape))) {
    throw new Error(
      `${fn}: mv must have shape (2, ...p's shape) = ${formatShape([2, ...p.shape])} (m and v stacked), got ${formatShape(mv.shape)}`,
    );
  }
  if (scale !== undefined && scale.rank !== 0) throw new Error(`${fn}: scale must be a scalar, got shape ${formatShape(scale.shape)}`);
  if (attrs === null || typeof attrs !== "object") throw new Error(`${fn}: attrs must be { ${ATTR_NAMES.join(", ")} }, got ${attrs}`);
  for (const name of ATTR_NAMES) {
    const x = attrs[name];
    if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${fn}: attrs.${name} must be a finite number, got ${x}`);
  }
  for (const name of ["bc1", "bc2"] as const) {
    if (!(attrs[name] > 0 && attrs[name] <= 1))
      throw new Error(`${fn}: attrs.${name} (a bias correction 1 − β^t) must be in (0, 1], got ${attrs[name]}`);
  }
  if (!(attrs.eps > 0)) throw new Error(`${fn}: attrs.eps must be > 0, got ${attrs.eps}`);
}
