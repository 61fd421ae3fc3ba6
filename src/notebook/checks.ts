/**
 * The checks a notebook prints after each hand-built step: the largest difference from the
 * library's version, against a stated tolerance; a failed check stops the notebook.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../shape-format";

/** Largest |a[i] − b[i]|; the arrays must have the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: a and b must have the same length, got ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN wins, so a NaN never passes a check
  }
  return m;
}

/** Largest |a[i]|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Prints "✔ what: error (tolerance t)"; throws when error is above tolerance or not a number. */
export function check(what: string, error: number, tolerance: number): void {
  const ok = error <= tolerance;
  console.log(`${ok ? "✔" : "✘"} ${what}: ${error.toExponential(2)} (tolerance ${tolerance.toExponential(0)})`);
  if (!ok) throw new Error(`check failed: ${what} = ${error}, above the tolerance ${tolerance}`);
}

/** Reads a tensor into a plain array and disposes it. */
export async function take(t: tf.Tensor): Promise<number[]> {
  const values = Array.from(await t.data());
  t.dispose();
  return values;
}

/** A 1-D or 2-D tensor as aligned text, `digits` decimals. */
export async function fmt(t: tf.Tensor, digits = 4): Promise<string> {
  if (t.rank > 2) throw new Error(`fmt: t must be 1-D or 2-D, got shape ${formatShape(t.shape)}`);
  const rows = t.rank === 2 ? ((await t.array()) as number[][]) : [Array.from(await t.data())];
  return rows.map((r) => r.map((v) => v.toFixed(digits).padStart(digits + 4)).join(" ")).join("\n");
}
