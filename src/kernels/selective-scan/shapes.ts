/**
 * Argument checking for the selective scan: every tensor's shape is checked against the sizes
 * (b, d, n, l) read off u and A, and each error names the argument and the shape it should have.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../../shape-format";

/** Optional inputs of the selective scan. */
export interface SelectiveScanOptions {
  /** Skip connection: D: (d), added as D·u. */
  D?: tf.Tensor;
  /** Gate: z: (b, d, l); the output is multiplied by silu(z). */
  z?: tf.Tensor;
  /** Added to delta before the softplus: deltaBias: (d). */
  deltaBias?: tf.Tensor;
  /** Pass delta (+ bias) through softplus, as Mamba does. Default false. */
  deltaSoftplus?: boolean;
  /**
   * How the WebGPU kernels walk the sequence: "chunked" (the default) scans chunks in parallel
   * in time; "sequential" is the reference twin, one thread per channel stepping through l. The
   * host kernels are sequential either way, and the tf-ops reference ignores it.
   */
  scan?: ScanMethod;
}

/** The WebGPU selective scans: parallel in time, or step after step. */
export const SCAN_METHODS = ["chunked", "sequential"] as const;
export type ScanMethod = (typeof SCAN_METHODS)[number];

/** The outputs: y: (b, d, l) and the state after the last step, lastState: (b, d, n). */
export interface SelectiveScanResult {
  y: tf.Tensor;
  lastState: tf.Tensor;
}

/** The sizes of one call. */
export interface ScanDims {
  b: number;
  d: number;
  n: number;
  l: number;
}

function isTensor(t: unknown): t is tf.Tensor {
  return t instanceof tf.Tensor;
}

function expectShape(fn: string, name: string, t: unknown, names: string, want: number[]): void {
  if (!isTensor(t))
    throw new Error(`${fn}: ${name} must be a tf.Tensor of shape ${names} = ${formatShape(want)}, got ${t === null ? "null" : typeof t}`);
  const ok = t.shape.length === want.length && t.shape.every((s, i) => s === want[i]);
  if (!ok) throw new Error(`${fn}: ${name} must have shape ${names} = ${formatShape(want)}, got ${formatShape(t.shape)}`);
  if (t.dtype !== "float32") throw new Error(`${fn}: ${name} must be float32, got ${t.dtype}`);
}

/**
 * Checks the arguments of `selectiveScan` (or its reference, named by `fn`) and returns the
 * sizes. u fixes (b, d, l) and A fixes n; everything else must agree with them.
 */
export function checkSelectiveScanArgs(
  fn: string,
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  opts: SelectiveScanOptions,
): ScanDims {
  if (!isTensor(u) || u.rank !== 3) {
    throw new Error(`${fn}: u must be a rank-3 tensor (b, d, l), got ${isTensor(u) ? `shape ${formatShape(u.shape)}` : typeof u}`);
  }
  const [b, d, l] = u.shape as number[];
  if (!(b > 0 && d > 0 && l > 0)) throw new Error(`${fn}: u must have nonzero sizes (b, d, l), got ${formatShape(u.shape)}`);
  expectShape(fn, "u", u, "(b, d, l)", [b, d, l]);
  if (!isTensor(A) || A.rank !== 2) {
    throw new Error(
      `${fn}: A must be a rank-2 tensor (d, n) with d = ${d}, got ${isTensor(A) ? `shape ${formatShape(A.shape)}` : typeof A}`,
    );
  }
  const n = A.shape[1] as number;
  if (!(n > 0)) throw new Error(`${fn}: A must have a nonzero state size n, got shape ${formatShape(A.shape)}`);
  expectShape(fn, "delta", delta, "(b, d, l)", [b, d, l]);
  expectShape(fn, "A", A, "(d, n)", [d, n]);
  expectShape(fn, "B", B, "(b, n, l)", [b, n, l]);
  expectShape(fn, "C", C, "(b, n, l)", [b, n, l]);
  if (opts === null || typeof opts !== "object")
    throw new Error(`${fn}: opts must be an object, got ${opts === null ? "null" : typeof opts}`);
  if (opts.D !== undefined) expectShape(fn, "D", opts.D, "(d)", [d]);
  if (opts.z !== undefined) expectShape(fn, "z", opts.z, "(b, d, l)", [b, d, l]);
  if (opts.deltaBias !== undefined) expectShape(fn, "deltaBias", opts.deltaBias, "(d)", [d]);
  if (opts.deltaSoftplus !== undefined && typeof opts.deltaSoftplus !== "boolean") {
    throw new Error(`${fn}: deltaSoftplus must be a boolean, got ${JSON.stringify(opts.deltaSoftplus)}`);
  }
  if (opts.scan !== undefined && !(SCAN_METHODS as readonly unknown[]).includes(opts.scan)) {
    throw new Error(
      `${fn}: scan must be one of ${SCAN_METHODS.map((m) => JSON.stringify(m)).join(", ")}, got ${JSON.stringify(opts.scan)}`,
    );
  }
  return { b, d, n, l };
}
