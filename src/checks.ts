/**
 * Argument checks shared by the public functions: each failure is an Error that names the
 * argument, the value it got and what was expected.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "./shape-format";

/**
 * value as a positive integer, or an Error. Two call styles: (name, value) with the function in the
 * name ("kConv: L"), or (fn, name, value) as the figure builders and modules write it.
 */
export function checkPositiveInt(name: string, value: unknown): number;
export function checkPositiveInt(fn: string, name: string, value: unknown): number;
export function checkPositiveInt(...args: [string, unknown] | [string, string, unknown]): number {
  const [label, value] = args.length === 3 ? [`${args[0]}: ${args[1]}`, args[2]] : args;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${label} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** value as an integer ≥ min (default 1), or an Error naming the function and the argument. */
export function checkIntArg(fn: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${fn}: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** A probability-like rate in [0, 1) (dropout). */
export function checkRate(fn: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Error(`${fn}: ${name} must be a number in [0, 1), got ${String(value)}`);
  }
  return value;
}

/** A seed: any integer (negative ones too; the generators take it modulo 2³²). */
export function checkSeed(fn: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`${fn}: seed must be an integer, got ${String(value)}`);
  }
  return value;
}

export function checkPositive(name: string, value: unknown): void {
  if (!(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw new Error(`${name} must be a finite number > 0, got ${String(value)}`);
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
    throw new Error(`${name} must have shape (${show})${what ? ` ${what}` : ""}, got ${formatShape(shape)}`);
  }
}

export function checkFiniteArray(name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`${name} must be finite, got ${data[i]} at flat index ${i}`);
    }
  }
}

/**
 * Throws unless t has the given rank and (where not −1) the given sizes; `name` says whose
 * argument it is ("S4Layer.forward: u") and `what` the expected shape in words ("(b, l, h)").
 */
export function checkDims(name: string, t: tf.Tensor, dims: number[], what: string): void {
  const ok = t.rank === dims.length && dims.every((d, i) => d === -1 || t.shape[i] === d);
  if (!ok) throw new Error(`${name} must have shape ${what}, got ${formatShape(t.shape)}`);
}
