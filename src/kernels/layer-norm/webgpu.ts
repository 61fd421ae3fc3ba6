/**
 * Layer normalization in WGSL, float32 throughout. The width h comes from the shape uniform of
 * scale (`uniforms.scaleShape`), so one compiled shader serves every size.
 *
 * - forward, and the row statistics and dx of the backward: one thread per row of h;
 * - dscale and dbias, sums over up to ~10⁵ rows: a first pass of partial sums over chunks of
 *   ⌈√rows⌉ rows (one thread per chunk, column and sum), then one thread per column adds up the
 *   ⌈√rows⌉ partial sums — two short loops instead of one thread per column walking every row.
 */
import { f32, flatProgram, registerWebGPUKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

/** μ and 1/√(σ² + eps) of row `row` of x, two passes over the row. */
const ROW_STATS = `
fn rowStats(row : i32, H : i32) -> vec2<f32> {
  let base = row * H;
  var sum = 0.0;
  for (var j = 0; j < H; j = j + 1) { sum = sum + x[base + j]; }
  let mean = sum / f32(H);
  var sq = 0.0;
  for (var j = 0; j < H; j = j + 1) {
    let d = x[base + j] - mean;
    sq = sq + d * d;
  }
  return vec2<f32>(mean, 1.0 / sqrt(sq / f32(H) + uniforms.eps));
}`;

// x (rows, h), scale (h), bias (h) → y (rows, h); one thread per row
const FORWARD = `${ROW_STATS}
fn main(index : i32) {
  let H = uniforms.scaleShape;
  if (index >= uniforms.size / H) { return; }
  let s = rowStats(index, H);
  let base = index * H;
  for (var j = 0; j < H; j = j + 1) {
    setOutputAtIndex(base + j, (x[base + j] - s.x) * s.y * scale[j] + bias[j]);
  }
}`;

// x (rows, h) → stats (rows, 2) = [μ, r] per row (h a uniform: a shader's bindings are only the inputs it reads)
const STATS = `${ROW_STATS}
fn main(index : i32) {
  let H = uniforms.h;
  if (index >= uniforms.size / 2) { return; }
  let s = rowStats(index, H);
  setOutputAtIndex(2 * index, s.x);
  setOutputAtIndex(2 * index + 1, s.y);
}`;

// dy, x (rows, h), scale (h), stats (rows, 2) → dx (rows, h); one thread per row
const GRAD_X = `
fn main(index : i32) {
  let H = uniforms.scaleShape;
  if (index >= uniforms.size / H) { return; }
  let base = index * H;
  let mean = stats[2 * index];
  let rstd = stats[2 * index + 1];
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var j = 0; j < H; j = j + 1) {
    let g = dy[base + j] * scale[j];
    sumG = sumG + g;
    sumGX = sumGX + g * (x[base + j] - mean) * rstd;
  }
  let meanG = sumG / f32(H);
  let meanGX = sumGX / f32(H);
  for (var j = 0; j < H; j = j + 1) {
    let xh = (x[base + j] - mean) * rstd;
    setOutputAtIndex(base + j, rstd * (dy[base + j] * scale[j] - meanG - xh * meanGX));
  }
}`;

// dy, x (rows, h), stats (rows, 2) → partials (chunks, 2, h): Σ dy·x̂ and Σ dy over each chunk of rows
const PARTIALS = `
fn main(index : i32) {
  if (index >= uniforms.size) { return; }
  let H = uniforms.outShape.z;
  let j = index % H;
  let which = (index / H) % 2;
  let r0 = (index / (2 * H)) * uniforms.chunk;
  let r1 = min(r0 + uniforms.chunk, uniforms.rows);
  var acc = 0.0;
  if (which == 0) {
    for (var r = r0; r < r1; r = r + 1) {
      acc = acc + dy[r * H + j] * (x[r * H + j] - stats[2 * r]) * stats[2 * r + 1];
    }
  } else {
    for (var r = r0; r < r1; r = r + 1) { acc = acc + dy[r * H + j]; }
  }
  setOutputAtIndex(index, acc);
}`;

// partials (chunks, 2, h) → dscale (h) (which = 0) or dbias (h) (which = 1)
const TOTAL = `
fn main(index : i32) {
  if (index >= uniforms.size) { return; }
  let H = uniforms.size;
  var acc = 0.0;
  for (var c = 0; c < uniforms.partialsShape.x; c = c + 1) {
    acc = acc + partials[(2 * c + uniforms.which) * H + index];
  }
  setOutputAtIndex(index, acc);
}`;

const rowsOf = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);

registerWebGPUKernel(KERNEL, ["x", "scale", "bias"], ([shape], attrs) => [
  {
    program: flatProgram("layerNorm", ["x", "scale", "bias"], shape, FORWARD, "eps : f32,", rowsOf(shape)),
    inputs: [0, 1, 2],
    uniforms: [f32(attrs.eps as number)],
  },
]);

// pool: 0 dy, 1 x, 2 scale, 3 stats, 4 dx, 5 partials, 6 dscale, 7 dbias
registerWebGPUKernel(GRAD_KERNEL, ["dy", "x", "scale"], ([shape], attrs) => {
  const h = shape[shape.length - 1],
    rows = rowsOf(shape);
  const chunk = Math.ceil(Math.sqrt(rows)),
    chunks = Math.ceil(rows / chunk);
  return [
    {
      program: flatProgram("layerNormStats", ["x"], [rows, 2], STATS, "eps : f32, h : i32,", rows),
      inputs: [1],
      uniforms: [f32(attrs.eps as number), h],
      output: false,
    },
    { program: flatProgram("layerNormGradX", ["dy", "x", "scale", "stats"], shape, GRAD_X, "", rows), inputs: [0, 1, 2, 3] },
    {
      program: flatProgram("layerNormPartials", ["dy", "x", "stats"], [chunks, 2, h], PARTIALS, "chunk : i32, rows : i32,"),
      inputs: [0, 1, 3],
      uniforms: [chunk, rows],
      output: false,
    },
    { program: flatProgram("layerNormTotal", ["partials"], [h], TOTAL, "which : i32,"), inputs: [5], uniforms: [0] },
    { program: flatProgram("layerNormTotal", ["partials"], [h], TOTAL, "which : i32,"), inputs: [5], uniforms: [1] },
  ];
});
