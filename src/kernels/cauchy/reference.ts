/**
 * The Cauchy sums of the S4 kernel in plain tf ops — the slow twin the kernels are tested
 * against, and the path on backends without a registered kernel (tfjs-node and tfjs-node-gpu, or
 * S4_KERNELS=reference). Differentiable by autodiff.
 *
 * The sums build (H, N, L) complex tensors, a dozen of them, which autodiff would keep for the
 * backward pass: 25 MB each at H 128, N 64, L 784, close to 1 GB per layer for a whole training
 * step. Every point z_l is independent of the others, so longer z are cut into chunks of points,
 * each recomputed in the backward pass: memory holds one chunk's (H, N, chunk) tensors.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "../../complex";
import { CTensor } from "../../complex";
import { recomputedChunks, recomputedOp } from "../../recompute-grad";

/** Points of z per recomputed chunk when none is given. */
export const DEFAULT_CAUCHY_CHUNK = 128;

/** The sums at every point at once, kept whole for autodiff. Arguments as below. */
function cauchyBilinearWhole(lambda: CTensor, v: CTensor, step: tf.Tensor, z: CTensor): CTensor {
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

/** One chunk of points as a recomputed op; its one output stacks re and im: (2, H, M, chunk). */
const cauchyChunk = recomputedOp((lre, lim, vre, vim, step, zre, zim) => {
  const S = cauchyBilinearWhole({ re: lre, im: lim }, { re: vre, im: vim }, step, { re: zre, im: zim });
  return tf.stack([S.re, S.im]);
});

/**
 * S[h, m, l] = Σ_n v[h, m, n] · 2 / ((2/Δ_h)(1 − z_l) − λ[h, n](1 + z_l)).
 * lambda: (H, N), v: (H, M, N), step: (H), z: (L) → S: (H, M, L), all complex but step.
 * `chunk`: z longer than this is evaluated in recomputed chunks of this many points
 * (default DEFAULT_CAUCHY_CHUNK); Infinity keeps every point in one autodiff graph.
 */
export function cauchyBilinearReference(lambda: CTensor, v: CTensor, step: tf.Tensor, z: CTensor, chunk = DEFAULT_CAUCHY_CHUNK): CTensor {
  if (!(chunk === Infinity || (Number.isInteger(chunk) && chunk > 0))) {
    throw new Error(`cauchyBilinearReference: chunk must be a positive integer or Infinity, got ${String(chunk)}`);
  }
  const L = z.re.shape[z.re.rank - 1];
  if (L <= chunk) return cauchyBilinearWhole(lambda, v, step, z);
  return tf.tidy(() => {
    const S = recomputedChunks(cauchyChunk, [lambda.re, lambda.im, v.re, v.im, step], [z.re, z.im], chunk); // (2, H, M, L)
    const [re, im] = tf.unstack(S);
    return { re, im };
  });
}
