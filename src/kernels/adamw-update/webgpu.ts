/**
 * The fused AdamW update in WGSL, two programs with one thread per parameter element:
 * 1. mvNew (2, S): both moments of element i (m at i, v at S + i);
 * 2. pNew (S): reads the moments just written.
 * The constants arrive as f32 uniforms, the clipping scale (if any) as a one-element buffer that
 * stays on the device, so one step uploads nothing. One compiled shader per form serves every
 * parameter shape.
 */
import { f32, flatProgram, registerWebGPUKernel, WgslStep } from "../registry";
import { KERNEL, SCALED_KERNEL } from "./spec";

/** WGSL: the update's scale (1 without clipping) and whether it skips the update (≤ 0, NaN or ±∞,
 * tested on the bits so that no compiler assumption about NaN can drop the test). */
const scaleSnippet = (scaled: boolean) => `
fn gradScale() -> f32 {
  return ${scaled ? "scale[0]" : "1.0"};
}
fn skipsUpdate(s : f32) -> bool {
  return (bitcast<u32>(s) & 0x7f800000u) == 0x7f800000u || !(s > 0.0);
}`;

// Inputs g, mv[, scale]; output mvNew (2, S); S threads.
const momentsBody = (scaled: boolean) => `${scaleSnippet(scaled)}
fn main(index : i32) {
  let n = uniforms.size / 2;
  if (index < n) {
    let s = gradScale();
    if (skipsUpdate(s)) {
      setOutputAtIndex(index, mv[index]);
      setOutputAtIndex(n + index, mv[n + index]);
      return;
    }
    let gi = g[index] * s;
    setOutputAtIndex(index, uniforms.beta1 * mv[index] + uniforms.oneMinusBeta1 * gi);
    setOutputAtIndex(n + index, uniforms.beta2 * mv[n + index] + uniforms.oneMinusBeta2 * gi * gi);
  }
}`;

// Inputs p, mvNew[, scale]; output pNew (S).
const paramBody = (scaled: boolean) => `${scaleSnippet(scaled)}
fn main(index : i32) {
  let n = uniforms.size;
  if (index < n) {
    let old = p[index];
    if (skipsUpdate(gradScale())) {
      setOutputAtIndex(index, old);
      return;
    }
    let adam = mvNew[index] / uniforms.bc1 / (sqrt(mvNew[n + index]) / uniforms.sqrtBc2 + uniforms.eps);
    setOutputAtIndex(index, old - uniforms.lr * (adam + uniforms.weightDecay * old));
  }
}`;

function register(kernelName: string, scaled: boolean): void {
  const inputNames = scaled ? ["p", "g", "mv", "scale"] : ["p", "g", "mv"];
  const key = scaled ? "Scaled" : "";
  const moments = momentsBody(scaled),
    param = paramBody(scaled);
  registerWebGPUKernel(kernelName, inputNames, ([pShape, , mvShape], attrs): WgslStep[] => {
    const a = (name: string) => attrs[name] as number;
    const size = pShape.reduce((x, y) => x * y, 1);
    // pool: 0 p, 1 g, 2 mv, (3 scale), then mvNew
    const mvNew = scaled ? 4 : 3;
    return [
      {
        program: flatProgram(
          `adamwMoments${key}`,
          scaled ? ["g", "mv", "scale"] : ["g", "mv"],
          mvShape,
          moments,
          "beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32,",
          size,
        ),
        inputs: scaled ? [1, 2, 3] : [1, 2],
        uniforms: [f32(a("beta1")), f32(1 - a("beta1")), f32(a("beta2")), f32(1 - a("beta2"))],
        outputIndex: 1,
      },
      {
        program: flatProgram(
          `adamwParam${key}`,
          scaled ? ["p", "mvNew", "scale"] : ["p", "mvNew"],
          pShape,
          param,
          "lr : f32, eps : f32, weightDecay : f32, bc1 : f32, sqrtBc2 : f32,",
        ),
        inputs: scaled ? [0, mvNew, 3] : [0, mvNew],
        uniforms: [f32(a("lr")), f32(a("eps")), f32(a("weightDecay")), f32(a("bc1")), f32(Math.sqrt(a("bc2")))],
        outputIndex: 0,
      },
    ];
  });
}

register(KERNEL, false);
register(SCALED_KERNEL, true);
