/** GELU (tanh form) in WGSL: one thread per element each way, in float32. */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { GELU_CUBIC, GELU_SCALE, GRAD_KERNEL, KERNEL } from "./spec";

// tanh through exp(−2|u|), which cannot overflow (the built-in may return NaN for large |u| on
// some drivers); the same form as tfjs-backend-webgpu's Tanh.
const COMMON = `
const GELU_SCALE : f32 = ${GELU_SCALE};
const GELU_CUBIC : f32 = ${GELU_CUBIC};
fn safeTanh(u : f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - e) / (1.0 + e);
}`;

const FORWARD = `${COMMON}
fn main(index : i32) {
  if (index < uniforms.size) {
    let v = x[index];
    let t = safeTanh(GELU_SCALE * (v + GELU_CUBIC * (v * v * v)));
    setOutputAtIndex(index, 0.5 * v * (1.0 + t));
  }
}`;

const BACKWARD = `${COMMON}
fn main(index : i32) {
  if (index < uniforms.size) {
    let v = x[index];
    let v2 = v * v;
    let t = safeTanh(GELU_SCALE * (v + GELU_CUBIC * (v2 * v)));
    let slope = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * v2);
    setOutputAtIndex(index, dy[index] * slope);
  }
}`;

registerWebGPUKernel(KERNEL, ["x"], ([shape]) => [{ program: flatProgram("geluTanh", ["x"], shape, FORWARD), inputs: [0] }]);

registerWebGPUKernel(GRAD_KERNEL, ["dy", "x"], ([shape]) => [
  { program: flatProgram("geluTanhGrad", ["dy", "x"], shape, BACKWARD), inputs: [0, 1] },
]);
