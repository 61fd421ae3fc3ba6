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

/** The same for any number of inputs: f gets them as one array; gradFunc returns one gradient each. */
export function customOpN(f: (inputs: tf.Tensor[], save: SaveFn) => CustomResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(((...args: unknown[]) => f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as SaveFn)) as any) as any;
}
