/**
 * Argument checks shared by the public functions: each failure is an Error that names the
 * argument, the value it got and what was expected.
 */
import * as tf from "@tensorflow/tfjs";

export function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
}

export function checkPositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`${name} must be a finite number > 0, got ${value}`);
  }
}

export function checkOneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got "${value}"`);
  }
  return value as T;
}

/** `expected` uses -1 for "any size" and may start with "..." for any number of leading axes. */
export function checkShape(name: string, t: tf.Tensor, expected: (number | "...")[], what = ""): void {
  const anyLead = expected[0] === "...";
  const tail = (anyLead ? expected.slice(1) : expected) as number[];
  const shape = t.shape;
  const rankOk = anyLead ? shape.length >= tail.length : shape.length === tail.length;
  const offset = shape.length - tail.length;
  const dimsOk = rankOk && tail.every((d, i) => d === -1 || shape[offset + i] === d);
  if (!dimsOk) {
    const show = expected.map((d) => (d === -1 ? "any" : String(d))).join(", ");
    throw new Error(`${name} must have shape (${show})${what ? ` ${what}` : ""}, got (${shape.join(", ")})`);
  }
}

export function checkFiniteArray(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`${name} must be finite, got ${data[i]} at flat index ${i}`);
    }
  }
}
