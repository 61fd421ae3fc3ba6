/**
 * The gated linear unit on the host (cpu and wasm): x (rows, 2h) = [a | g] in blocks of rows that
 * the threads share, in float64 per element.
 *
 * With e = e^{−g} and s = σ(g) = 1/(1 + e): y = a·s, da = dy·s, dg = dy·a·e·s² (since
 * σ′ = s(1 − s) and 1 − s = e·s): one table exp (exp-wide.ts, shared with GELU) and one division
 * per element instead of Math.exp (an out-of-line call in V8), and 1 − s is never formed by a
 * subtraction.
 */
import { Attrs, HostKernelSpec, rowsPerUnit, sizeOf } from "../host-kernel";
import { expWide } from "../gelu/exp-wide";
import { GRAD_KERNEL, KERNEL } from "./names";

/** x (rows, 2h) → y (rows, h): the rows [r0, r1). */
function forward(x: Float32Array, y: Float32Array, h: number, r0: number, r1: number): void {
  for (let r = r0; r < r1; r++) {
    const a = r * 2 * h,
      g = a + h,
      o = r * h;
    for (let j = 0; j < h; j++) y[o + j] = x[a + j] / (1 + expWide(-x[g + j]));
  }
}

/** dy (rows, h), x (rows, 2h) → dx (rows, 2h): the rows [r0, r1). */
function backward(dy: Float32Array, x: Float32Array, dx: Float32Array, h: number, r0: number, r1: number): void {
  for (let r = r0; r < r1; r++) {
    const a = r * 2 * h,
      g = a + h,
      o = r * h;
    for (let j = 0; j < h; j++) {
      const e = expWide(-x[g + j]),
        s = 1 / (1 + e),
        d = dy[o + j] * s;
      dx[a + j] = d;
      dx[g + j] = d * x[a + j] * (e * s); // e·s = 1 − s ≤ 1, where e alone may be near float64's largest number
    }
  }
}

/** h (half the last axis of x), the rows of x, the rows a unit (from h alone, never the thread count), the units. */
function layout(shape: number[], attrs: Attrs): { h: number; rows: number; per: number; units: number } {
  const h = attrs.half as number;
  const rows = sizeOf(shape) / (2 * h),
    per = rowsPerUnit(2 * h);
  return { h, rows, per, units: Math.ceil(rows / per) };
}

/** x (..., 2h) → y (..., h): the blocks of rows [from, to). */
export const GLU_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x"],
  plan: ([shape], attrs) => ({ outputs: [[...shape.slice(0, -1), attrs.half as number]], phases: [layout(shape, attrs).units] }),
  run: (_phase, b, from, to) => {
    const { h, rows, per } = layout(b.shapes[0], b.attrs);
    forward(b.ins[0], b.outs[0], h, from * per, Math.min(to * per, rows));
  },
};

/** dy (..., h), x (..., 2h) → dx (..., 2h): the blocks of rows [from, to). */
export const GLU_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy", "x"],
  plan: ([, shape], attrs) => ({ outputs: [shape], phases: [layout(shape, attrs).units] }),
  run: (_phase, b, from, to) => {
    const { h, rows, per } = layout(b.shapes[1], b.attrs);
    backward(b.ins[0], b.ins[1], b.outs[0], h, from * per, Math.min(to * per, rows));
  },
};
