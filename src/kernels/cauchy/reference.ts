/**
 * The Cauchy sums of the S4 kernel in plain tf ops — the slow twin the kernels are tested
 * against, and the path on backends without a registered kernel. Differentiable by autodiff.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "../../complex";
import { CTensor } from "../../complex";

/**
 * S[h, m, l] = Σ_n v[h, m, n] · 2 / ((2/Δ_h)(1 − z_l) − λ[h, n](1 + z_l)).
 * lambda: (H, N), v: (H, M, N), step: (H), z: (L) → S: (H, M, L), all complex but step.
 */
export function cauchyBilinearReference(lambda: CTensor, v: CTensor, step: tf.Tensor, z: CTensor): CTensor {
  return tf.tidy(() => {
    const s2 = tf.reshape(tf.div(2, step), [-1, 1, 1]); // (H, 1, 1)
    const oneMinus: CTensor = { re: tf.sub(1, z.re), im: tf.neg(z.im) }; // (L)
    const onePlus: CTensor = { re: tf.add(1, z.re), im: z.im };
    const den = cx.sub(cx.scaleBy(oneMinus, s2), cx.mul(cx.expandDims(lambda, -1), onePlus)); // (H, N, L)
    const r = cx.scaleBy(cx.reciprocal(den), 2);
    return {
      re: tf.sub(tf.matMul(v.re, r.re), tf.matMul(v.im, r.im)),
      im: tf.add(tf.matMul(v.re, r.im), tf.matMul(v.im, r.re)),
    };
  });
}
