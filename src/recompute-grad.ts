/**
 * Recomputation instead of storage: an op built from plain tf ops whose intermediates are not kept
 * for the backward pass, but computed again there, from its saved inputs, when the gradient needs
 * them. Autodiff would keep every intermediate from the forward pass to the backward pass; a
 * recomputed op keeps only its inputs, for one more forward pass of compute.
 *
 * The reference paths use it where their intermediates are far larger than their inputs (the S4
 * kernel's Cauchy sums, the DFT convolution, each chunk of the selective scan), so that the memory
 * of a training step on tfjs-node(-gpu) stays that of the activations.
 */
import * as tf from "@tensorflow/tfjs";
import { customOpN } from "./custom-grad";

/**
 * The gradients of Σ dy·f(...xs) with respect to each of xs, by tfjs autodiff, callable inside a
 * backward pass; an input that f does not reach gets zeros.
 */
export function gradientsInBackward(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  // tfjs's engine has one tape slot: a gradient computed inside a backward pass replaces it and
  // clears it when done, so the outer pass's tape is put back afterwards.
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outerTape = state.activeTape;
  try {
    return tf.tidy(() => {
      const { grads } = tf.engine().gradients(() => f(...xs), xs, dy, true);
      return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
    });
  } finally {
    state.activeTape = outerTape;
  }
}

/**
 * `f` as an op that saves only its inputs for the backward pass and recomputes its intermediates
 * there. Same values and gradients as `f` itself; f must be a pure function of its inputs (no
 * randomness, no variables read on the side) and return one tensor.
 */
export function recomputedOp(f: (...xs: tf.Tensor[]) => tf.Tensor): (...xs: tf.Tensor[]) => tf.Tensor {
  return customOpN((xs, save) => {
    save(xs);
    return { value: f(...xs), gradFunc: (dy, saved) => gradientsInBackward(f, saved, dy) };
  });
}

/**
 * A recomputed op applied to chunks of positions: `positional` tensors (each (..., L), split along
 * their last axis into chunks of `chunk`) go to `op` chunk by chunk, beside the `shared` tensors,
 * and the outputs, (..., chunk) each, are joined along their last axis. For computations that are
 * independent across positions, so that memory holds one chunk's intermediates at a time.
 */
export function recomputedChunks(
  op: (...xs: tf.Tensor[]) => tf.Tensor,
  shared: tf.Tensor[],
  positional: tf.Tensor[],
  chunk: number,
): tf.Tensor {
  const L = positional[0].shape[positional[0].rank - 1];
  const sizes = Array.from({ length: Math.ceil(L / chunk) }, (_, c) => Math.min(chunk, L - c * chunk));
  return tf.tidy(() => {
    // (tfjs cannot differentiate a split into one piece)
    const parts = positional.map((p) => (sizes.length === 1 ? [p] : tf.split(p, sizes, p.rank - 1)));
    const outs = sizes.map((_, c) => op(...shared, ...parts.map((p) => p[c])));
    return outs.length === 1 ? outs[0] : tf.concat(outs, outs[0].rank - 1);
  });
}
