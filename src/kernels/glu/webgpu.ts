/** The gated linear unit in WGSL: one thread per output element, forward (..., h) and backward (..., 2h). */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

const SIGMOID = "fn sigmoid(v : f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }";

// x (rows, 2h) → y (rows, h)
const FORWARD = `${SIGMOID}
fn main(index : i32) {
  if (index < uniforms.size) {
    let h = uniforms.h;
    let r = index / h;
    let a = r * 2 * h + (index - r * h);
    setOutputAtIndex(index, x[a] * sigmoid(x[a + h]));
  }
}`;

// dy (rows, h), x (rows, 2h) → dx (rows, 2h): the first half da, the second dg
const BACKWARD = `${SIGMOID}
fn main(index : i32) {
  if (index < uniforms.size) {
    let h = uniforms.h;
    let r = index / (2 * h);
    let j = index - r * 2 * h;
    let k = j % h;
    let a = x[r * 2 * h + k];
    let s = sigmoid(x[r * 2 * h + h + k]);
    let d = dy[r * h + k];
    setOutputAtIndex(index, select(d * a * s * (1.0 - s), d * s, j < h));
  }
}`;

registerWebGPUKernel(KERNEL, ["x"], ([shape], attrs) => {
  const h = attrs.half as number;
  return [{ program: flatProgram("gatedLinearUnit", ["x"], [...shape.slice(0, -1), h], FORWARD, "h : i32,"), inputs: [0], uniforms: [h] }];
});

registerWebGPUKernel(GRAD_KERNEL, ["dy", "x"], ([, shape], attrs) => [
  {
    program: flatProgram("gatedLinearUnitGrad", ["dy", "x"], shape, BACKWARD, "h : i32,"),
    inputs: [0, 1],
    uniforms: [attrs.half as number],
  },
]);
