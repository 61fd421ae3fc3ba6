/**
 * The fused AdamW update in plain tf ops: the path taken where no kernel is registered (e.g.
 * tfjs-node, whose native elementwise ops are fast), and what the kernels are tested against.
 */
import * as tf from "@tensorflow/tfjs";
import { AdamWUpdateAttrs, checkArgs } from "./spec";

/** Makes the scalar tensor of a constant; a caller that keeps them (see ScalarCache) saves the
 * uploads of creating them again at every call. */
export type ScalarMaker = (value: number) => tf.Scalar;

/** The default ScalarMaker: a fresh tf.scalar each time. */
export const freshScalar: ScalarMaker = (x) => tf.scalar(x);

/** The update without the argument check (adamwUpdate has checked already). */
export function referenceUpdate(
  p: tf.Tensor,
  g: tf.Tensor,
  mv: tf.Tensor,
  attrs: AdamWUpdateAttrs,
  scale: tf.Scalar | undefined,
  constant: ScalarMaker,
): [tf.Tensor, tf.Tensor] {
  const { lr, beta1, beta2, eps, weightDecay, bc1, bc2 } = attrs;
  return tf.tidy(() => {
    const [m0, v0] = tf.unstack(mv);
    const gs = scale ? tf.mul(g, scale) : g;
    const m = tf.add(tf.mul(constant(beta1), m0), tf.mul(constant(1 - beta1), gs));
    const v = tf.add(tf.mul(constant(beta2), v0), tf.mul(constant(1 - beta2), tf.square(gs)));
    // m̂/(√v̂ + ε) = (m/bc1) / (√v/√bc2 + ε)
    const adam = tf.div(tf.div(m, constant(bc1)), tf.add(tf.div(tf.sqrt(v), constant(Math.sqrt(bc2))), constant(eps)));
    const delta = weightDecay !== 0 ? tf.add(adam, tf.mul(constant(weightDecay), p)) : adam;
    const pNew = tf.sub(p, tf.mul(constant(lr), delta));
    const mvNew = tf.stack([m, v]);
    if (!scale) return [pNew, mvNew];
    // a scale ≤ 0 or not finite skips the update
    const ok = tf.logicalAnd(tf.greater(scale, constant(0)), tf.isFinite(scale));
    return [tf.where(ok, pNew, p), tf.where(ok, mvNew, mv)];
  });
}

/**
 * The fused AdamW update (see spec.ts) in tf ops: p (any shape), g (p's shape), mv (2, ...p's
 * shape), optional scalar scale → [pNew, mvNew]. `constant` makes the scalar constants
 * (default: a fresh tf.scalar each). It takes adamwUpdate's arguments, so that either stands in for
 * the other.
 */
export function adamwUpdateReference(
  p: tf.Tensor,
  g: tf.Tensor,
  mv: tf.Tensor,
  attrs: AdamWUpdateAttrs,
  scale?: tf.Scalar,
  constant: ScalarMaker = freshScalar,
): [tf.Tensor, tf.Tensor] {
  checkArgs("adamwUpdateReference", p, g, mv, attrs, scale);
  return referenceUpdate(p, g, mv, attrs, scale, constant);
}
