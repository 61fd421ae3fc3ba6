/**
 * The causal convolution as WGSL programs computing the direct O(l) sums. For the lengths S4 uses
 * (l up to a few thousand) this is the right GPU algorithm: the work is l²/2 multiply-adds per
 * row, but it runs as (batch·h·l)/4 independent threads reading contiguous memory, with no
 * synchronization; an FFT would trade that for log₂ m passes of scattered access and barriers.
 *
 * Each thread computes four neighbouring outputs of one row, keeping the four input samples they
 * need in a sliding vec4 window, so each loaded value serves four sums (about 3× faster than one
 * output per thread on a software Vulkan device).
 *
 * - forward: y[row, t] = Σ_{j ≤ t} k[h, j] · u[row, t − j];
 * - du: du[row, s] = Σ_{i < l − s} k[h, i] · dy[row, s + i];
 * - dk: dk[h, j] = Σ_batch Σ_{t' < l − j} dy[row, j + t'] · u[row, t'], the batch summed inside
 *   the thread (h·l/4 threads; no atomics and no second reduction pass).
 * Sizes arrive as uniforms, so one compiled shader serves every shape of the same rank.
 */
import { quadProgram } from "../quad-program";
import { registerWebGPUKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

// l, the number of kernel rows h, of batch rows, and of threads (rows × ⌈l/4⌉).
const UNIFORMS = "l : i32, kRows : i32, batch : i32, threads : i32,";

/** Thread → (row, first of its four positions p0); `body` fills acc: vec4<f32> for p0 … p0 + 3. */
const quad = (body: string) => `
fn main(index : i32) {
  let L = uniforms.l;
  let quarters = (L + 3) / 4;
  if (index < uniforms.threads) {
    let r = index / quarters;
    let p0 = (index % quarters) * 4;
    var acc = vec4<f32>(0.0);
    ${body}
    for (var q = 0; q < 4; q = q + 1) {
      if (p0 + q < L) {
        setOutputAtIndex(r * L + p0 + q, acc[q]);
      }
    }
  }
}`;

// Inputs u (..., h, l), k (h, l); output y (..., h, l). win = u[t − j] for t = p0 … p0 + 3.
const FORWARD = quad(`
    let row = r * L;
    let kRow = (r % uniforms.kRows) * L;
    var win = vec4<f32>(0.0);
    for (var q = 0; q < 4; q = q + 1) {
      if (p0 + q < L) { win[q] = u[row + p0 + q]; }
    }
    let last = min(p0 + 3, L - 1);
    for (var j = 0; j <= last; j = j + 1) {
      acc = acc + k[kRow + j] * win;
      // slide: the window's first entry becomes u[p0 − j − 1] (zero before t = 0)
      let next = p0 - j - 1;
      win = vec4<f32>(select(0.0, u[row + max(next, 0)], next >= 0), win.x, win.y, win.z);
    }`);

// Inputs dy (..., h, l), k (h, l); output du (..., h, l). win = dy[s + i] for s = p0 … p0 + 3.
const GRAD_U = quad(`
    let row = r * L;
    let kRow = (r % uniforms.kRows) * L;
    var win = vec4<f32>(0.0);
    for (var q = 0; q < 4; q = q + 1) {
      if (p0 + q < L) { win[q] = dy[row + p0 + q]; }
    }
    for (var i = 0; i < L - p0; i = i + 1) {
      acc = acc + k[kRow + i] * win;
      // slide: the window's last entry becomes dy[p0 + i + 4] (zero past t = l − 1)
      let next = p0 + i + 4;
      win = vec4<f32>(win.y, win.z, win.w, select(0.0, dy[row + min(next, L - 1)], next < L));
    }`);

// Inputs dy (..., h, l), u (..., h, l); output dk (h, l). win = u[t' − q] for j = p0 + q.
const GRAD_K = quad(`
    let H = uniforms.kRows;
    for (var b = 0; b < uniforms.batch; b = b + 1) {
      let row = (b * H + r) * L;
      var win = vec4<f32>(u[row], 0.0, 0.0, 0.0);
      for (var t = 0; t < L - p0; t = t + 1) {
        acc = acc + dy[row + p0 + t] * win;
        let next = t + 1;
        win = vec4<f32>(select(0.0, u[row + min(next, L - 1)], next < L), win.x, win.y, win.z);
      }
    }`);

/** l, h and the batch count (rows of u per row of k). */
function sizes(uShape: number[], kShape: number[]): [number, number, number] {
  const l = uShape[uShape.length - 1];
  const uSize = uShape.reduce((a, b) => a * b, 1),
    kSize = kShape.reduce((a, b) => a * b, 1);
  return [l, l === 0 ? 0 : kSize / l, kSize === 0 ? 0 : uSize / kSize];
}

registerWebGPUKernel(KERNEL, ["u", "k"], ([uShape, kShape]) => {
  const [l, kRows, batch] = sizes(uShape, kShape);
  const { program, threads } = quadProgram("causalConv", ["u", "k"], FORWARD, UNIFORMS, uShape);
  return [{ program, inputs: [0, 1], uniforms: [l, kRows, batch, threads] }];
});

registerWebGPUKernel(GRAD_KERNEL, ["dy", "u", "k"], ([, uShape, kShape]) => {
  const [l, kRows, batch] = sizes(uShape, kShape);
  const du = quadProgram("causalConvGradU", ["dy", "k"], GRAD_U, UNIFORMS, uShape);
  const dk = quadProgram("causalConvGradK", ["dy", "u"], GRAD_K, UNIFORMS, kShape);
  return [
    { program: du.program, inputs: [0, 2], uniforms: [l, kRows, batch, du.threads] },
    { program: dk.program, inputs: [0, 1], uniforms: [l, kRows, batch, dk.threads] },
  ];
});
