/** What StackedModel needs of one block of its residual stream, whatever the layer kind. */
import type * as tf from "@tensorflow/tfjs";
import type { Dropout } from "./dropout";
import type { Module } from "./module";
import type { LayerState, SequenceLayer } from "./sequence-layer";

/** The options of a block's forward pass. */
export interface BlockForwardOptions {
  /** Training mode: dropout draws masks (default false). */
  training?: boolean;
}

export interface ModelBlock extends Module {
  /** The block's sequence layer (for RNN mode: its recurrence and its zero state). */
  readonly layer: Pick<SequenceLayer, "setupRecurrence" | "initState">;
  /** The block's dropout stream, rewound when the block is recomputed; null without dropout. */
  readonly drop: Dropout | null;
  /** CNN mode: (b, l, dModel) → (b, l, dModel). */
  forward(x: tf.Tensor, opts?: BlockForwardOptions): tf.Tensor;
  /** RNN mode, one position: x (b, dModel) → (b, dModel) and the layer's next state. */
  step(state: LayerState, x: tf.Tensor): { y: tf.Tensor; state: LayerState };
}
