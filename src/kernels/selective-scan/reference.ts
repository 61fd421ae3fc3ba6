/**
 * The selective scan in plain tf ops: the twin the fused kernels are tested against, and the op
 * itself on backends without a kernel (tfjs-node and tfjs-node-gpu, or any backend with
 * S4_KERNELS=reference). It uses only elementwise ops, reductions, slices and concatenations, so
 * it runs and differentiates on every backend.
 *
 * The recurrence h_t = a_t ⊙ h_{t−1} + x_t is linear, so it is computed by a parallel scan
 * (src/mamba/linear-scan.ts), in chunks of `chunk` steps, each recomputed in the backward pass
 * (src/mamba/selective-ssm-checkpointed.ts): at Mamba's training sizes (b 128, d 128, n 16,
 * l 784) a single (b, d, l, n) tensor is 0.8 GB, and differentiating the whole scan by autodiff
 * would keep a dozen of them for every round of the scan, so memory must not grow with l.
 * `chunk: Infinity` does exactly that (the whole sequence in one autodiff graph): for comparison.
 */
import * as tf from "@tensorflow/tfjs";
import { checkSize } from "../../mamba/scan-args";
import { DEFAULT_CHECKPOINT_CHUNK, selectiveSSMCheckpointed } from "../../mamba/selective-ssm-checkpointed";
import { selectiveSSMParallel } from "../../mamba/selective-ssm";
import { checkSelectiveScanArgs, SelectiveScanOptions, SelectiveScanResult } from "./shapes";

/** delta after the optional bias and softplus, as every implementation uses it: (b, d, l). */
export function effectiveDelta(delta: tf.Tensor, deltaBias: tf.Tensor | undefined, softplus: boolean): tf.Tensor {
  return tf.tidy(() => {
    let dt = delta;
    if (deltaBias) dt = tf.add(dt, tf.reshape(deltaBias, [1, -1, 1]));
    return softplus ? tf.softplus(dt) : dt;
  });
}

/** The options of the reference: those of `selectiveScan`, and the chunk length. */
export interface SelectiveScanReferenceOptions extends SelectiveScanOptions {
  /**
   * Steps per chunk, each chunk recomputed in the backward pass (default DEFAULT_CHECKPOINT_CHUNK
   * = 32); Infinity: the whole sequence in one graph differentiated by autodiff.
   */
  chunk?: number;
}

/**
 * y_t = C_t · h_t + D u_t with h_t = exp(δ_t A) ⊙ h_{t−1} + δ_t B_t u_t and h_{−1} = 0, then
 * y ← y · silu(z) when z is given. Same arguments and results as `selectiveScan`.
 */
export function selectiveScanReference(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  opts: SelectiveScanReferenceOptions = {},
): SelectiveScanResult {
  const fn = "selectiveScanReference";
  checkSelectiveScanArgs(fn, u, delta, A, B, C, opts);
  const chunk = opts.chunk ?? DEFAULT_CHECKPOINT_CHUNK;
  if (chunk !== Infinity) checkSize(fn, "chunk", chunk);
  return tf.tidy(() => {
    const dt = effectiveDelta(delta, opts.deltaBias, opts.deltaSoftplus ?? false); // (b, d, l)
    const { y, lastState } =
      chunk === Infinity
        ? selectiveSSMParallel(u, dt, A, B, C, opts.D, { method: "hillis-steele", autodiff: true })
        : selectiveSSMCheckpointed(u, dt, A, B, C, opts.D, { chunk });
    return { y: opts.z ? tf.mul(y, tf.mul(opts.z, tf.sigmoid(opts.z))) : y, lastState }; // y · silu(z)
  });
}
