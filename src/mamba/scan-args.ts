/**
 * Argument checks shared by the scans: each failure names the function, the argument, what it
 * got and what was expected.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../shape-format";

const describeValue = (t: unknown): string =>
  t instanceof tf.Tensor
    ? `a ${t.dtype} tensor of shape ${formatShape(t.shape)}`
    : t === null
      ? "null"
      : Array.isArray(t)
        ? "an array"
        : typeof t;

/** A float32 tensor with at least one axis and a nonzero last (time) axis. */
export function checkSequence(fn: string, name: string, x: unknown, axes = "(..., l)"): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank < 1 || x.dtype !== "float32") {
    throw new Error(`${fn}: ${name} must be a float32 tf.Tensor of shape ${axes}, got ${describeValue(x)}`);
  }
  if (x.shape.some((s: number) => s === 0)) throw new Error(`${fn}: ${name} must have nonzero sizes ${axes}, got ${formatShape(x.shape)}`);
}

/**
 * The inputs of h_t = a_t·h_{t−1} + b_t: a and b of one shape (..., l), and an optional initial
 * state h0 of the leading shape (...).
 */
export function checkScanInputs(fn: string, a: unknown, b: unknown, h0?: unknown): void {
  checkSequence(fn, "a", a);
  checkSequence(fn, "b", b);
  const same = a.rank === b.rank && a.shape.every((s, i) => s === b.shape[i]);
  if (!same) throw new Error(`${fn}: a and b must have the same shape (..., l), got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  if (h0 !== undefined) {
    const lead = a.shape.slice(0, -1);
    const ok = h0 instanceof tf.Tensor && h0.dtype === "float32" && h0.rank === lead.length && lead.every((s, i) => s === h0.shape[i]);
    if (!ok)
      throw new Error(`${fn}: h0 must be a float32 tf.Tensor of the leading shape of a, ${formatShape(lead)}, got ${describeValue(h0)}`);
  }
}

/** A positive integer size such as a block or chunk length. */
export function checkSize(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${typeof value === "number" ? value : JSON.stringify(value)}`);
  }
}
