/** The gated linear unit on the host (cpu and wasm): row loops over x (rows, 2h), in float64. */
import { Attrs, HostInput, HostOutput, registerHostKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** y[r, j] = x[r, j] · σ(x[r, h + j]). */
function forward([x]: HostInput[], attrs: Attrs): HostOutput {
  const h = attrs.half as number, xv = x.values;
  const rows = xv.length / (2 * h), y = new Float32Array(rows * h);
  for (let r = 0; r < rows; r++) {
    const a = r * 2 * h, g = a + h, o = r * h;
    for (let j = 0; j < h; j++) y[o + j] = xv[a + j] * sigmoid(xv[g + j]);
  }
  return { values: y, shape: [...x.shape.slice(0, -1), h] };
}

/** dx[r, j] = dy[r, j] · σ(g), dx[r, h + j] = dy[r, j] · a · σ(g)(1 − σ(g)), with a = x[r, j], g = x[r, h + j]. */
function backward([dy, x]: HostInput[], attrs: Attrs): HostOutput {
  const h = attrs.half as number, gv = dy.values, xv = x.values;
  const rows = xv.length / (2 * h), dx = new Float32Array(xv.length);
  for (let r = 0; r < rows; r++) {
    const a = r * 2 * h, g = a + h, o = r * h;
    for (let j = 0; j < h; j++) {
      const s = sigmoid(xv[g + j]), d = gv[o + j];
      dx[a + j] = d * s;
      dx[g + j] = d * xv[a + j] * s * (1 - s);
    }
  }
  return { values: dx, shape: x.shape };
}

registerHostKernel(KERNEL, ["x"], forward);
registerHostKernel(GRAD_KERNEL, ["dy", "x"], backward);
