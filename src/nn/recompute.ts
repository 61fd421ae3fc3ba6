/**
 * Activation checkpointing ("gradient checkpointing"): run a block without keeping any of its
 * intermediate tensors, and compute them again, one block at a time, in the backward pass.
 *
 * Autodiff keeps every intermediate of the forward pass until the backward pass reaches it, so a
 * training step's memory grows with depth × batch × length. With each block recomputed, what
 * stays alive across the step is the blocks' inputs plus one block's intermediates, for one more
 * forward pass of compute. tfjs has no such utility; this one is built from `tf.customGrad`
 * (whose forward ops are not recorded on the tape) and a nested `tf.grads` in its gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { customOpN } from "../custom-grad";

/**
 * y = f(x) with the gradient recomputed: f reads the trainable `params` (variables) itself;
 * they are listed so that their gradients flow. `beforeRecompute` runs just before the second
 * forward pass and must put back any state the first one advanced (a dropout stream), so both
 * passes compute the same function.
 */
export function recomputeInBackward(
  f: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  params: tf.Variable[],
  beforeRecompute: () => void = () => {},
): tf.Tensor {
  const trainable = params.filter((v) => v.trainable);
  const op = customOpN(([input], save) => {
    save([input]);
    return {
      value: f(input),
      gradFunc: (dy, saved) => {
        beforeRecompute();
        // A gradient inside a backward pass: tfjs's engine has one tape slot, which the inner
        // tf.grads replaces and clears when it ends, so the outer pass's tape is put back after.
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outerTape = state.activeTape;
        try {
          // The variables are passed as the xs of tf.grads; f reads the same tensors directly.
          return tf.grads((xIn: tf.Tensor) => f(xIn))([saved[0], ...trainable], dy);
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return op(x, ...trainable);
}
