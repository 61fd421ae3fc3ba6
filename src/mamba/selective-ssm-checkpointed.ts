/**
 * The selective SSM in chunks of T steps, with memory bounded by one chunk.
 *
 * The parallel scan holds (b, d, n, l) tensors, and autodiff keeps them (every round of the
 * scan's) until the backward pass: at Mamba's training sizes that is gigabytes per layer. Here the
 * sequence is cut into chunks of T steps, scanned one after another, each chunk starting from the
 * state the one before it ended in:
 *
 *   chunk c: (u, Δ, B, C)[cT … cT + T − 1] and h_{cT−1}  →  y[cT … cT + T − 1] and h_{cT+T−1}
 *
 * Each chunk is a recomputed op (recompute-grad.ts): the forward pass keeps only its inputs, the
 * state that enters it (b, d, n) included, and the backward pass runs the chunk again, under
 * autodiff, when its gradient is needed. Memory then holds (b, d, n, T) tensors for one chunk
 * plus a (b, d, n) state per chunk boundary, whatever the length l, for one more forward pass.
 * Inside a chunk the scan is `selectiveSSMParallel` (doubling scan, reverse-scan gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { checkSelectiveScanArgs, SelectiveScanResult } from "../kernels/selective-scan/shapes";
import { recomputedOp } from "../recompute-grad";
import { checkSize } from "./scan-args";
import { addSkip, selectiveSSMParallel } from "./selective-ssm";

/** Steps per chunk when none is given: (b, d, n, 32) tensors, 25 chunks for l = 784. */
export const DEFAULT_CHECKPOINT_CHUNK = 32;

/**
 * One chunk from a given state: y (b, d, T) and the state after it (b, d, n), side by side as
 * (b, d, T + n), since a recomputed op returns one tensor.
 */
function chunkFrom(u: tf.Tensor, delta: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor, h0?: tf.Tensor): tf.Tensor {
  const { y, lastState } = selectiveSSMParallel(u, delta, A, B, C, undefined, { method: "hillis-steele", h0 });
  return tf.concat([y, lastState], 2);
}

/** The first chunk starts from zeros; the others from the state the chunk before them ended in. */
const firstChunk = recomputedOp((u, delta, A, B, C) => chunkFrom(u, delta, A, B, C));
const laterChunk = recomputedOp((u, delta, A, B, C, h0) => chunkFrom(u, delta, A, B, C, h0));

/** Options of `selectiveSSMCheckpointed`. */
export interface SelectiveSSMCheckpointedOptions {
  /** Steps per chunk, T (default DEFAULT_CHECKPOINT_CHUNK); the last chunk may be shorter. */
  chunk?: number;
}

/**
 * The selective SSM (Δ used as given, as in `selectiveSSMParallel`) scanned chunk by chunk, each
 * chunk recomputed in the backward pass. u, delta: (b, d, l); A: (d, n); B, C: (b, n, l); D: (d).
 * Returns y: (b, d, l) and lastState = h_{l−1}: (b, d, n); differentiable in every argument.
 * The arguments are selectiveSSMParallel's, so that this version can stand in for it.
 */
export function selectiveSSMCheckpointed(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  D?: tf.Tensor,
  opts: SelectiveSSMCheckpointedOptions = {},
): SelectiveScanResult {
  const fn = "selectiveSSMCheckpointed";
  const { n, l } = checkSelectiveScanArgs(fn, u, delta, A, B, C, { D });
  if (opts === null || typeof opts !== "object")
    throw new Error(`${fn}: opts must be an object, got ${opts === null ? "null" : typeof opts}`);
  const T = opts.chunk ?? DEFAULT_CHECKPOINT_CHUNK;
  checkSize(fn, "chunk", T);
  const lengths = Array.from({ length: Math.ceil(l / T) }, (_, c) => Math.min(T, l - c * T));
  return tf.tidy(() => {
    // One split per input (its gradient is one concatenation), not a slice per chunk; none for a
    // single chunk (tfjs cannot differentiate a split into one piece).
    const [us, deltas, Bs, Cs] = [u, delta, B, C].map((x) => (lengths.length === 1 ? [x] : tf.split(x, lengths, 2)));
    const ys: tf.Tensor[] = [];
    let h: tf.Tensor | null = null; // the state entering chunk c: (b, d, n)
    for (let c = 0; c < lengths.length; c++) {
      const ins = [us[c], deltas[c], A, Bs[c], Cs[c]];
      const out: tf.Tensor = h === null ? firstChunk(...ins) : laterChunk(...ins, h); // (b, d, len + n)
      const [y, after] = tf.split(out, [lengths[c], n], 2);
      ys.push(y);
      h = after;
    }
    return { y: addSkip(ys.length === 1 ? ys[0] : tf.concat(ys, 2), u, D), lastState: h as tf.Tensor };
  });
}
