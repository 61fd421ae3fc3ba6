/**
 * The WebGPU program shape of the direct-sum kernels (causal convolution, inverse DFT): each thread
 * computes four neighbouring outputs of one row, so every value it loads serves four sums.
 */
import { flatProgram, WgslProgram } from "./registry";

/**
 * A program with output `outShape` run by one thread per four outputs of each row of `rowShape`
 * (default: outShape), rows of length l = its last axis: rows·⌈l/4⌉ threads. The dispatch rounds
 * up to whole workgroups, so the body must skip an index ≥ `threads` (pass it as a uniform).
 */
export function quadProgram(
  key: string,
  vars: string[],
  body: string,
  uniforms: string,
  outShape: number[],
  rowShape: number[] = outShape,
): { program: WgslProgram; threads: number } {
  const l = rowShape[rowShape.length - 1];
  const rows = l === 0 ? 0 : rowShape.reduce((a, b) => a * b, 1) / l;
  const threads = rows * Math.ceil(l / 4);
  const program = {
    ...flatProgram(key, vars, [Math.max(threads, 1)], body, uniforms),
    outputShape: outShape,
    dispatchLayout: { x: outShape.map((_, i) => i) },
  };
  return { program, threads };
}
