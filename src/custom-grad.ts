/**
 * A typed wrapper around `tf.customGrad`: tfjs types the forward function as taking
 * `(...inputs | save)`, which strict TypeScript cannot express for a fixed arity.
 */
import * as tf from "@tensorflow/tfjs";

export type SaveFn = (tensors: tf.Tensor[]) => void;
export interface CustomResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

export function customOp1(f: (x: tf.Tensor, save: SaveFn) => CustomResult): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad(f as any) as any;
}
