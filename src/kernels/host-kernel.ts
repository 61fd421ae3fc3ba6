/**
 * A host kernel that can run on several threads: its work is a few phases, each a list of
 * independent units (channels, rows, row pairs), and `run` computes units [from, to) of a phase.
 *
 * Every unit is computed by the same code whatever the split, and each output element is written
 * by exactly one unit, so the results are identical, bit for bit, at any thread count. A sum
 * across units (e.g. a weight gradient over the batch) is written per unit into a scratch buffer
 * in one phase and reduced in a fixed order in the next.
 *
 * This file imports nothing from TensorFlow.js: the worker threads load the kernels' compute code
 * without it.
 */

export type Attrs = Record<string, number | boolean | string | number[]>;

/** What one call of a kernel allocates: float32 outputs, float64 scratch shared by its phases. */
export interface HostKernelPlan {
  /** Shapes of the float32 outputs. */
  outputs: number[][];
  /** Lengths of float64 scratch buffers that live for the whole call (zero-filled). */
  scratch?: number[];
  /** Units of each phase, in order; a phase starts when the one before has finished. */
  phases: number[];
}

/** The buffers of one call, as every thread sees them. */
export interface HostKernelBuffers {
  /** Inputs, float32, row-major, in the order of `inputs`. */
  ins: Float32Array[];
  shapes: number[][];
  outs: Float32Array[];
  scratch: Float64Array[];
  attrs: Attrs;
}

export interface HostKernelSpec {
  /** The tfjs kernel name (unique). */
  name: string;
  /** The order in which `run` receives the inputs of runKernel(name, {input: tensor}). */
  inputs: readonly string[];
  plan(shapes: number[][], attrs: Attrs): HostKernelPlan;
  /** Computes units [from, to) of phase `phase`; writes only what those units own. */
  run(phase: number, b: HostKernelBuffers, from: number, to: number): void;
}

/** The number of elements of a shape. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Elements a unit of an elementwise kernel (or about that many, in whole rows): fixed, so that the
 * split never depends on the thread count, and large enough that a unit outweighs its dispatch.
 */
export const UNIT_ELEMENTS = 16384;

/** The units of an elementwise kernel over n elements. */
export function elementUnits(n: number): number {
  return Math.ceil(n / UNIT_ELEMENTS);
}

/** The elements [start, end) of units [from, to) of an elementwise kernel over n elements. */
export function unitElements(from: number, to: number, n: number): [number, number] {
  return [from * UNIT_ELEMENTS, Math.min(to * UNIT_ELEMENTS, n)];
}

/** Rows of `width` elements a unit holds: as many as fit in UNIT_ELEMENTS, at least one. */
export function rowsPerUnit(width: number): number {
  return Math.max(1, Math.floor(UNIT_ELEMENTS / width));
}

/** Splits units [0, n) into `parts` contiguous ranges as even as possible (empty ranges dropped). */
export function splitRange(n: number, parts: number): [number, number][] {
  const k = Math.max(1, Math.min(parts, n));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const from = Math.floor((i * n) / k),
      to = Math.floor(((i + 1) * n) / k);
    if (to > from) out.push([from, to]);
  }
  return out;
}
