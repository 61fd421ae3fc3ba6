/**
 * Activation checkpointing ("gradient checkpointing"): run a block without keeping any of its
 * intermediate tensors, and compute them again, one block at a time, in the backward pass.
 *
 * Autodiff keeps every intermediate of the forward pass until the backward pass reaches it, so a
 * training step's memory grows with depth × batch × length. With each block recomputed, what
 * stays alive across the step is the blocks' inputs plus one block's intermediates, for one more
 * forward pass of compute. tfjs has no such utility; this one is built from `tf.customGrad`
 * (whose forward ops are not recorded on the tape) and a nested gradient in its backward pass
 * (`gradientsInBackward`, shared with the recomputed ops of the reference paths).
 */
import * as tf from "@tensorflow/tfjs";
import { customOpN } from "../custom-grad";
import { gradientsInBackward } from "../recompute-grad";

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
        // The variables are passed as xs of the gradient; f reads the same tensors directly.
        return gradientsInBackward((xIn: tf.Tensor) => f(xIn), [saved[0], ...trainable], dy);
      },
    };
  });
  return op(x, ...trainable);
}
