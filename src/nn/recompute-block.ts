/** A model block run under activation checkpointing (see recompute.ts). */
import type * as tf from "@tensorflow/tfjs";
import type { ModelBlock } from "./model-block";
import { recomputeInBackward } from "./recompute";

/**
 * A block's forward with its intermediates recomputed in the backward pass. The recomputation
 * rewinds the block's dropout stream to where this pass began, so it draws the same masks (and
 * leaves the stream where this pass left it).
 */
export function forwardRecomputed(block: ModelBlock, h: tf.Tensor, training: boolean): tf.Tensor {
  const start = block.drop?.position ?? 0;
  const rewind = () => {
    if (block.drop) block.drop.position = start;
  };
  return recomputeInBackward((x) => block.forward(x, { training }), h, Object.values(block.parameters()), rewind);
}
