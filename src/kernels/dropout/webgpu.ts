/** Seeded dropout in WGSL: one thread per element, the same u32 hash as the host kernel. */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { KERNEL } from "./spec";

const BODY = `
fn pcgHash(v : u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn main(index : i32) {
  if (index < uniforms.size) {
    let h = pcgHash(pcgHash(u32(index)) ^ bitcast<u32>(uniforms.seed));
    var y = 0.0;
    if (h < bitcast<u32>(uniforms.threshold)) { y = x[index] * bitcast<f32>(uniforms.scaleBits); }
    setOutputAtIndex(index, y);
  }
}`;

registerWebGPUKernel(KERNEL, ["x"], ([shape], attrs) => [
  {
    program: flatProgram("seededDropout", ["x"], shape, BODY, "seed : i32, threshold : i32, scaleBits : i32,"),
    inputs: [0],
    uniforms: [attrs.seed as number, attrs.threshold as number, attrs.scaleBits as number],
  },
]);
