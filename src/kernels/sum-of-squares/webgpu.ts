/**
 * The sum of squares in WGSL: one workgroup of 256 threads. Thread i sums x[i], x[i + 256], …
 * (neighbouring threads read neighbouring elements), then the 256 partial sums are added in a
 * tree in workgroup memory. One program per call, whatever the size of x.
 */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { KERNEL } from "./spec";

const THREADS = 256;

const BODY = `
var<workgroup> partial : array<f32, ${THREADS}>;
fn main(index : i32) {
  var acc = 0.0;
  for (var i = index; i < uniforms.n; i = i + ${THREADS}) {
    let v = x[i];
    acc = acc + v * v;
  }
  partial[index] = acc;
  workgroupBarrier();
  for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
    if (index < stride) {
      partial[index] = partial[index] + partial[index + stride];
    }
    workgroupBarrier();
  }
  if (index == 0) {
    setOutputAtIndex(0, partial[0]);
  }
}`;

registerWebGPUKernel(KERNEL, ["x"], ([shape]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const program = {
    ...flatProgram("sumOfSquares", ["x"], [], BODY, "n : i32,", THREADS),
    workgroupSize: [THREADS, 1, 1] as [number, number, number],
    dispatch: [1, 1, 1] as [number, number, number],
  };
  return [{ program, inputs: [0], uniforms: [n] }];
});
