/**
 * The causal convolution in plain tf ops, two ways, both differentiable by autodiff on every
 * backend:
 * - `directCausalConv`: the definition itself, a sum of shifted copies — O(l²), the reference
 *   the kernels are tested against;
 * - `matmulCausalConv` (dft-matmul.ts): the zero-padded DFT as matmuls, the path taken where no
 *   kernel is registered (e.g. tfjs-node, whose native matmuls make it fast).
 */
import * as tf from "@tensorflow/tfjs";
import { checkArgs } from "./spec";

/**
 * Direct causal convolution, y[..., t] = Σ_{j ≤ t} k[..., j] · u[..., t − j], as a sum of shifted
 * copies of u: O(L²) and plain tf ops, so it runs and differentiates on every backend.
 * u: (..., h, l), k: (h, l) → (..., h, l). (`tf.conv1d` would be a cross-correlation: it needs
 * the kernel flipped, and wasm has no conv backward.)
 */
export function directCausalConv(u: tf.Tensor, k: tf.Tensor): tf.Tensor {
  const { l } = checkArgs("directCausalConv", u, k);
  return tf.tidy(() => {
    const padding = u.shape.map((_, i) => (i === u.rank - 1 ? [l - 1, 0] : [0, 0])) as [number, number][];
    const padded = tf.pad(u, padding); // (..., 2l − 1): l − 1 zeros before t = 0
    let y: tf.Tensor = tf.zerosLike(u);
    for (let j = 0; j < l; j++) {
      // u shifted right by j (a fresh begin array each time: the slice gradient keeps it)
      const begin = u.shape.map((_, i) => (i === u.rank - 1 ? l - 1 - j : 0));
      const shifted = tf.slice(padded, begin, u.shape);
      const kj = tf.slice(k, k.shape.map((_, i) => (i === k.rank - 1 ? j : 0)), k.shape.map((s, i) => (i === k.rank - 1 ? 1 : s)));
      y = tf.add(y, tf.mul(kj, shifted));
    }
    return y;
  });
}
