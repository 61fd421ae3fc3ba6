/**
 * The exponential moving average, the smallest useful linear scan:
 *
 *   h_t = (1 − α)·h_{t−1} + α·x_t,   i.e. a_t = 1 − α, b_t = α·x_t.
 *
 * A selective SSM is this with a decay a_t and an input weight that depend on the input.
 */
import * as tf from "@tensorflow/tfjs";
import { linearScan, LinearScanOptions } from "./scan-grad";
import { checkSequence } from "./scan-args";

/** The EMA of x: (..., l) along its last axis, from h0 (default 0); α in (0, 1]. Differentiable in x. */
export function ema(x: tf.Tensor, alpha: number, opts: LinearScanOptions = {}): tf.Tensor {
  checkSequence("ema", "x", x);
  if (typeof alpha !== "number" || !(alpha > 0 && alpha <= 1)) throw new Error(`ema: alpha must be a number in (0, 1], got ${alpha}`);
  return tf.tidy(() => linearScan(tf.fill(x.shape, 1 - alpha), tf.mul(x, alpha), opts));
}
