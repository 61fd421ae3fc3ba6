/** GELU (tanh form) on the host (cpu and wasm): one pass each way, in float64 per element. */
import { HostInput, HostOutput, registerHostKernel } from "../registry";
import { GELU_CUBIC, GELU_SCALE, GRAD_KERNEL, KERNEL } from "./spec";

function forward([x]: HostInput[]): HostOutput {
  const xv = x.values, y = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i];
    y[i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + GELU_CUBIC * v * v * v)));
  }
  return { values: y, shape: x.shape };
}

/** dx = dy · (½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)), t = tanh(√(2/π)(x + 0.044715x³)). */
function backward([dy, x]: HostInput[]): HostOutput {
  const gv = dy.values, xv = x.values, dx = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i], v2 = v * v;
    const t = Math.tanh(GELU_SCALE * (v + GELU_CUBIC * v2 * v));
    dx[i] = gv[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_SCALE * (1 + 3 * GELU_CUBIC * v2));
  }
  return { values: dx, shape: x.shape };
}

registerHostKernel(KERNEL, ["x"], forward);
registerHostKernel(GRAD_KERNEL, ["dy", "x"], backward);
