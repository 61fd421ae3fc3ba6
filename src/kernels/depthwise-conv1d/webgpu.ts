/**
 * The causal depthwise convolution as WGSL programs. Sizes come from the shape uniforms that
 * tfjs-backend-webgpu binds for every input (`xShape`, `wShape`, …), so one compiled shader serves
 * all sizes.
 *
 * - forward and dx: one thread per element of (b, d, l), k taps each;
 * - dw: one thread per (c, j), dbias: one per c, each summing over the batch and time itself
 *   (d·k threads is little parallelism, but it needs no atomics and no second reduction pass).
 */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

// Inputs x (b, d, l), w (d, k), bias (d); output y (b, d, l).
const FORWARD = `
fn main(index : i32) {
  if (index < uniforms.size) {
    let L = uniforms.xShape.z;
    let D = uniforms.xShape.y;
    let K = uniforms.wShape.y;
    let t = index % L;
    let c = (index / L) % D;
    let row = index - t;
    var acc = bias[c];
    // taps that would read before t = 0 read zeros: start at j = K − 1 − t
    for (var j = max(0, K - 1 - t); j < K; j = j + 1) {
      acc = acc + w[c * K + j] * x[row + t - (K - 1) + j];
    }
    setOutputAtIndex(index, acc);
  }
}`;

// Inputs dy (b, d, l), w (d, k); output dx (b, d, l).
const GRAD_X = `
fn main(index : i32) {
  if (index < uniforms.size) {
    let L = uniforms.dyShape.z;
    let D = uniforms.dyShape.y;
    let K = uniforms.wShape.y;
    let s = index % L;
    let c = (index / L) % D;
    let row = index - s;
    var acc = 0.0;
    // tap j feeds output t = s + K − 1 − j, which must be < L
    for (var j = max(0, s + K - L); j < K; j = j + 1) {
      acc = acc + w[c * K + j] * dy[row + s + K - 1 - j];
    }
    setOutputAtIndex(index, acc);
  }
}`;

// Inputs dy (b, d, l), x (b, d, l); output dw (d, k).
const GRAD_W = `
fn main(index : i32) {
  if (index < uniforms.size) {
    let B = uniforms.dyShape.x;
    let D = uniforms.dyShape.y;
    let L = uniforms.dyShape.z;
    let K = uniforms.outShape.y;
    let c = index / K;
    let j = index % K;
    var acc = 0.0;
    for (var b = 0; b < B; b = b + 1) {
      let row = (b * D + c) * L;
      for (var t = max(0, K - 1 - j); t < L; t = t + 1) {
        acc = acc + dy[row + t] * x[row + t - (K - 1) + j];
      }
    }
    setOutputAtIndex(index, acc);
  }
}`;

// Input dy (b, d, l); output dbias (d).
const GRAD_BIAS = `
fn main(index : i32) {
  if (index < uniforms.size) {
    let B = uniforms.dyShape.x;
    let D = uniforms.dyShape.y;
    let L = uniforms.dyShape.z;
    var acc = 0.0;
    for (var b = 0; b < B; b = b + 1) {
      let row = (b * D + index) * L;
      for (var t = 0; t < L; t = t + 1) {
        acc = acc + dy[row + t];
      }
    }
    setOutputAtIndex(index, acc);
  }
}`;

registerWebGPUKernel(KERNEL, ["x", "w", "bias"], ([xShape]) => [
  { program: flatProgram("causalDepthwiseConv1d", ["x", "w", "bias"], xShape, FORWARD), inputs: [0, 1, 2] },
]);

registerWebGPUKernel(GRAD_KERNEL, ["dy", "x", "w"], ([dyShape, , wShape]) => [
  { program: flatProgram("causalDepthwiseConv1dGradX", ["dy", "w"], dyShape, GRAD_X), inputs: [0, 2] },
  { program: flatProgram("causalDepthwiseConv1dGradW", ["dy", "x"], wShape, GRAD_W), inputs: [0, 1] },
  { program: flatProgram("causalDepthwiseConv1dGradBias", ["dy"], [wShape[0]], GRAD_BIAS), inputs: [0] },
]);
