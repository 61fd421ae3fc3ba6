/**
 * Small tensor moves along the last axis, the time axis of every scan in this folder: take a
 * window, pad, shift by a few steps, split into even and odd steps and weave them back together.
 * Each works for any number of leading (batch) axes.
 */
import * as tf from "@tensorflow/tfjs";

/** The length of the last axis. */
export const lastDim = (x: tf.Tensor): number => x.shape[x.rank - 1];

/** Every axis but the last: the batch of independent sequences. */
export const leadingShape = (x: tf.Tensor): number[] => x.shape.slice(0, -1);

/** x[..., start : start + size]. */
export function sliceLast(x: tf.Tensor, start: number, size: number): tf.Tensor {
  const begin = x.shape.map((_, i) => (i === x.rank - 1 ? start : 0));
  const sizes = x.shape.map((s, i) => (i === x.rank - 1 ? size : s));
  return tf.slice(x, begin, sizes);
}

/** x with `before` and `after` entries equal to `value` added at the ends of the last axis. */
export function padLast(x: tf.Tensor, before: number, after: number, value = 0): tf.Tensor {
  if (before === 0 && after === 0) return x;
  const paddings = x.shape.map((_, i): [number, number] => (i === x.rank - 1 ? [before, after] : [0, 0]));
  return tf.pad(x, paddings, value);
}

/**
 * x moved `s` steps later in time: y_t = x_{t−s}, with `fill` for the first s steps and the
 * last s steps of x dropped, so the length stays the same.
 */
export function shiftRight(x: tf.Tensor, s: number, fill: number): tf.Tensor {
  const l = lastDim(x);
  if (s >= l) return tf.fill(x.shape, fill);
  return padLast(sliceLast(x, 0, l - s), s, 0, fill);
}

/** x moved `s` steps earlier in time: y_t = x_{t+s}, with `fill` for the last s steps. */
export function shiftLeft(x: tf.Tensor, s: number, fill: number): tf.Tensor {
  const l = lastDim(x);
  if (s >= l) return tf.fill(x.shape, fill);
  return padLast(sliceLast(x, s, l - s), 0, s, fill);
}

// Backends copy a slice or a concatenation in runs along the last axis, so runs of one element
// (picking every other step, stacking along time) cost one copy call per element. The moves
// below transpose first (a single fast kernel), so that every slice and concatenation copies
// long contiguous runs instead.

/** [x_0, x_2, x_4, …] and [x_1, x_3, x_5, …] for an even length: (..., 2m) → two (..., m). */
export function evensAndOdds(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const lead = leadingShape(x),
    m = lastDim(x) / 2;
  const split = tf.transpose(tf.reshape(x, [-1, m, 2]), [2, 0, 1]); // (2, rows, m): evens, then odds
  const [even, odd] = tf.unstack(split, 0);
  return [tf.reshape(even, [...lead, m]), tf.reshape(odd, [...lead, m])];
}

/** The inverse of `evensAndOdds`: two (..., m) → (..., 2m) with even[j] at 2j and odd[j] at 2j + 1. */
export function interleave(even: tf.Tensor, odd: tf.Tensor): tf.Tensor {
  const lead = leadingShape(even),
    m = lastDim(even);
  const both = tf.stack([tf.reshape(even, [-1, m]), tf.reshape(odd, [-1, m])], 0); // (2, rows, m)
  return tf.reshape(tf.transpose(both, [1, 2, 0]), [...lead, 2 * m]); // (rows, m, 2) → (..., 2m)
}

/** x: (..., l) → l tensors (...), one per time step. */
export function unstackTime(x: tf.Tensor): tf.Tensor[] {
  // One step is a reshape: tfjs cannot differentiate an unstack into a single tensor.
  if (lastDim(x) === 1) return [tf.reshape(x, leadingShape(x))];
  const timeFirst = [x.rank - 1, ...leadingShape(x).map((_, i) => i)];
  return tf.unstack(tf.transpose(x, timeFirst), 0);
}

/** The inverse of `unstackTime`: l tensors (...) → (..., l). */
export function stackTime(xs: tf.Tensor[]): tf.Tensor {
  if (xs.length === 1) return tf.expandDims(xs[0], -1);
  const stacked = tf.stack(xs, 0); // (l, ...)
  const timeLast = [...xs[0].shape.map((_, i) => i + 1), 0];
  return tf.transpose(stacked, timeLast);
}
