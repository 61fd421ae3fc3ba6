/**
 * The causal convolution in plain tf ops, two ways, both differentiable on every backend:
 * - `directCausalConv`: the definition itself, a sum of shifted copies — O(l²), the reference
 *   the kernels are tested against;
 * - `causalConvReference`: the zero-padded DFT as matmuls (`matmulCausalConv`, dft-matmul.ts),
 *   recomputed in the backward pass — the path taken where no kernel is registered (tfjs-node and
 *   tfjs-node-gpu, whose native matmuls make it fast, or S4_KERNELS=reference).
 */
import * as tf from "@tensorflow/tfjs";
import { matmulCausalConv } from "../../dft-matmul";
import { recomputedOp } from "../../recompute-grad";
import { checkArgs } from "./spec";

const recomputedMatmulConv = recomputedOp((u, k) => matmulCausalConv(u, k));

/**
 * `matmulCausalConv` keeping only u and k for the backward pass: its spectra, a dozen
 * (..., h, l + 1) tensors that autodiff would keep (25 MB each at b 64, h 128, l 784), are
 * computed again when the gradient needs them. u: (..., h, l), k: (h, l) → (..., h, l).
 */
export function causalConvReference(u: tf.Tensor, k: tf.Tensor): tf.Tensor {
  checkArgs("causalConvReference", u, k);
  return recomputedMatmulConv(u, k);
}

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
      const kj = tf.slice(
        k,
        k.shape.map((_, i) => (i === k.rank - 1 ? j : 0)),
        k.shape.map((s, i) => (i === k.rank - 1 ? 1 : s)),
      );
      y = tf.add(y, tf.mul(kj, shifted));
    }
    return y;
  });
}
