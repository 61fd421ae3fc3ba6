/**
 * Typed wrappers around `tf.customGrad`: tfjs types the forward function as taking
 * `(...inputs | save)`, which strict TypeScript cannot express for a fixed arity. These split the
 * arguments into the inputs and the save function, so the ops themselves need no casts.
 */
import * as tf from "@tensorflow/tfjs";

export type SaveFn = (tensors: tf.Tensor[]) => void;
export interface CustomResult<T extends tf.Tensor = tf.Tensor> {
  value: T;
  gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/** The forward function tf.customGrad takes: the inputs, then the save function, in one list. */
type TfForward<T extends tf.Tensor> = (...args: (tf.Tensor | SaveFn)[]) => CustomResult<T>;

/** Splits tf.customGrad's argument list into the input tensors and the save function. */
function splitArgs(fn: string, args: (tf.Tensor | SaveFn)[]): { inputs: tf.Tensor[]; save: SaveFn } {
  const inputs: tf.Tensor[] = [];
  let save: SaveFn | null = null;
  for (const a of args) {
    if (a instanceof tf.Tensor) inputs.push(a);
    else save = a;
  }
  if (!save) throw new Error(`${fn}: tf.customGrad passed no save function`);
  return { inputs, save };
}

/** An op of any number of inputs: f gets them as one array; gradFunc returns one gradient each. */
export function customOpN<T extends tf.Tensor = tf.Tensor>(
  f: (inputs: tf.Tensor[], save: SaveFn) => CustomResult<T>,
): (...inputs: tf.Tensor[]) => T {
  const forward: TfForward<T> = (...args) => {
    const { inputs, save } = splitArgs("customOpN", args);
    return f(inputs, save);
  };
  return tf.customGrad(forward);
}

/** An op of one input. */
export function customOp1<T extends tf.Tensor = tf.Tensor>(f: (x: tf.Tensor, save: SaveFn) => CustomResult<T>): (x: tf.Tensor) => T {
  const op = customOpN<T>(([x], save) => f(x, save));
  return (x) => op(x);
}

/** An op of two inputs, typed by what it takes and gives (e.g. two matrices → a matrix). */
export function customOp2<A extends tf.Tensor, B extends tf.Tensor, T extends tf.Tensor>(
  f: (a: A, b: B, save: SaveFn) => CustomResult<T>,
): (a: A, b: B) => T {
  const op = customOpN<T>(([a, b], save) => f(a as A, b as B, save));
  return (a, b) => op(a, b);
}
