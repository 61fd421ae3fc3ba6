/**
 * The real part of the inverse DFT as WGSL programs computing the direct O(L) sums. Each thread
 * computes four neighbouring outputs of one row, so every input value it loads serves four sums.
 * The twiddle e^{2πi·mn/L} of sample n comes from the previous one by one complex rotation
 * (instead of a cos and a sin per term); every 16 samples it is recomputed exactly from the phase
 * m·n mod L, kept as an integer, so rounding cannot build up along the row.
 *
 * - forward: y[r, j] = (1/L) Σ_k re[r, k] cos(2πjk/L) − im[r, k] sin(2πjk/L);
 * - backward: d re[r, k] = (1/L) Σ_j g[r, j] cos(2πjk/L), d im[r, k] = −(1/L) Σ_j g[r, j] sin(2πjk/L),
 *   both from one pass, stacked in one (2, ..., L) output.
 *
 * Measured against the matmul DFT (dft-matmul.ts) on a software Vulkan device (Mesa lavapipe):
 * several times faster for a few rows (it needs no L×L tables uploaded per call), and about as
 * fast at the S4 size of 64 rows of L = 784, so it is used on WebGPU throughout.
 */
import { quadProgram } from "../quad-program";
import { registerWebGPUKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

const UNIFORMS = "len : i32, threads : i32,";
const TWO_PI = "6.283185307179586";

/**
 * A program body: thread → (row, outputs m0 … m0 + 3 of that row), then a loop over the samples
 * n of the row with the twiddles c = cos, s = sin of 2π·m·n/L in vec4 lanes, one per output m.
 * `init` declares accumulators, `step` adds sample n's terms, `store(q)` writes output m0 + q.
 */
const program4 = (init: string, step: string, store: string) => `
fn main(index : i32) {
  let L = uniforms.len;
  let quarters = (L + 3) / 4;
  if (index < uniforms.threads) {
    let row = (index / quarters) * L;
    let m0 = (index % quarters) * 4;
    let mv = vec4<i32>(m0, m0 + 1, m0 + 2, m0 + 3) % vec4<i32>(L);
    let w = ${TWO_PI} / f32(L);
    let stepC = cos(w * vec4<f32>(mv));
    let stepS = sin(w * vec4<f32>(mv));
    var p = vec4<i32>(0); // m·n mod L
    var c = vec4<f32>(1.0);
    var s = vec4<f32>(0.0);
    ${init}
    for (var n = 0; n < L; n = n + 1) {
      if ((n & 15) == 0) {
        c = cos(w * vec4<f32>(p));
        s = sin(w * vec4<f32>(p));
      }
      ${step}
      let c2 = c * stepC - s * stepS;
      s = s * stepC + c * stepS;
      c = c2;
      p = p + mv;
      p = select(p, p - vec4<i32>(L), p >= vec4<i32>(L));
    }
    for (var q = 0; q < 4; q = q + 1) {
      if (m0 + q < L) {
        ${store}
      }
    }
  }
}`;

// Inputs re, im (..., L); output y (..., L).
const FORWARD = program4(
  "var acc = vec4<f32>(0.0);",
  "acc = acc + re[row + n] * c - im[row + n] * s;",
  "setOutputAtIndex(row + m0 + q, acc[q] / f32(L));",
);

// Input dy (..., L); output (2, ..., L): d re = Σ g·cos / L, then d im = −Σ g·sin / L.
const BACKWARD = program4(
  "var accC = vec4<f32>(0.0);\n    var accS = vec4<f32>(0.0);",
  "let g = dy[row + n];\n      accC = accC + g * c;\n      accS = accS - g * s;",
  "setOutputAtIndex(row + m0 + q, accC[q] / f32(L));\n        setOutputAtIndex(uniforms.size / 2 + row + m0 + q, accS[q] / f32(L));",
);

/** The program of `body` over rows of `rowShape`, with its uniforms: the length L and the thread count. */
function dftProgram(key: string, vars: string[], body: string, outShape: number[], rowShape: number[]) {
  const { program, threads } = quadProgram(key, vars, body, UNIFORMS, outShape, rowShape);
  return { program, uniforms: [rowShape[rowShape.length - 1], threads] };
}

registerWebGPUKernel(KERNEL, ["re", "im"], ([shape]) => [
  { ...dftProgram("inverseRealDFT", ["re", "im"], FORWARD, shape, shape), inputs: [0, 1] },
]);

registerWebGPUKernel(GRAD_KERNEL, ["dy"], ([shape]) => [
  { ...dftProgram("inverseRealDFTGrad", ["dy"], BACKWARD, [2, ...shape], shape), inputs: [0] },
]);
