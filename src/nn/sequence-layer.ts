/**
 * What every sequence layer of a model offers: a CNN mode over whole sequences and an RNN mode
 * that carries a state from one position to the next. The state's type belongs to the layer;
 * the model only stores, passes and frees it.
 */
import * as tf from "@tensorflow/tfjs";
import type { Module } from "./module";

/**
 * The state a sequence layer carries between steps in RNN mode: a tensor, or a record of tensors
 * (a complex state {re, im}, a Mamba block's {conv, ssm}).
 */
export type LayerState = tf.Tensor | { [part: string]: tf.Tensor };

/** Frees one state or a list of them. */
export function disposeState(s: LayerState | LayerState[]): void {
  const list = Array.isArray(s) ? s : [s];
  for (const x of list) {
    if (x instanceof tf.Tensor) x.dispose();
    else tf.dispose(Object.values(x));
  }
}

/** A sequence layer: (b, l, h) → (b, l, h) in CNN mode, one position at a time in RNN mode. */
export interface SequenceLayer<State extends LayerState = LayerState> extends Module {
  readonly h: number;
  readonly l: number;
  /** CNN mode: u (b, l, h) → y (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor;
  /** Builds the discrete RNN matrices from the parameters' current values. */
  setupRecurrence(): Promise<void>;
  /** The zero state for a batch of b sequences. */
  initState(b: number): State;
  /** RNN mode, one position: u (b, h) → y (b, h) and the next state. */
  step(state: State, u: tf.Tensor): { y: tf.Tensor; state: State };
}
