/** The DPLR weights and Woodbury kernels in WGSL: one thread per output value (see host.ts). */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { WEIGHTS, WEIGHTS_GRAD, WEIGHT_INPUTS, WOODBURY, WOODBURY_GRAD } from "./spec";

const COMPLEX = `
  fn cmul(a : vec2<f32>, b : vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
  fn conj2(a : vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x, -a.y); }
  fn cdiv(a : vec2<f32>, b : vec2<f32>) -> vec2<f32> { return cmul(a, conj2(b)) / dot(b, b); }
`;

const PLANES = `
  fn cAt(k : i32) -> vec2<f32> { return vec2<f32>(cRe[k], cIm[k]); }
  fn bAt(k : i32) -> vec2<f32> { return vec2<f32>(bRe[k], bIm[k]); }
  fn pAt(k : i32) -> vec2<f32> { return vec2<f32>(pRe[k], pIm[k]); }
`;

/** V[h, m, n] = conj(x)·y for (x, y) = (c, b), (c, p), (p, b), (p, p). */
const WEIGHTS_BODY = `${COMPLEX}${PLANES}
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let part = index % 2;
    let rest = index / 2;
    let n = rest % uniforms.N;
    let hm = rest / uniforms.N;
    let m = hm % 4;
    let k = (hm / 4) * uniforms.N + n;
    var x = pAt(k);
    var y = pAt(k);
    if (m < 2) { x = cAt(k); }
    if (m == 0 || m == 2) { y = bAt(k); }
    let v = cmul(conj2(x), y);
    setOutputAtIndex(index, select(v.y, v.x, part == 0));
  }`;

/** One plane of the weights' gradient per dispatch: which = 0..5 in the order c, b, p × (re, im). */
const WEIGHTS_GRAD_BODY = `${COMPLEX}${PLANES}
  fn gAt(k : i32, m : i32) -> vec2<f32> {
    let i = 2 * (((k / uniforms.N) * 4 + m) * uniforms.N + k % uniforms.N);
    return vec2<f32>(g[i], g[i + 1]);
  }
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let g0 = gAt(index, 0);
    let g1 = gAt(index, 1);
    let g2 = gAt(index, 2);
    let g3 = gAt(index, 3);
    var r = vec2<f32>(0.0, 0.0);
    let which = uniforms.which / 2;
    if (which == 0) {
      r = cmul(conj2(g0), bAt(index)) + cmul(conj2(g1), pAt(index));
    } else if (which == 1) {
      r = cmul(g0, cAt(index)) + cmul(g2, pAt(index));
    } else {
      r = cmul(g1, cAt(index)) + cmul(conj2(g2), bAt(index)) + 2.0 * g3.x * pAt(index);
    }
    setOutputAtIndex(index, select(r.y, r.x, uniforms.which % 2 == 0));
  }`;

/** The four sums at (h, l) from the planar S (2, H, 4, L), and a = (1 + z)/2. */
const SUMS = `
  fn sAt(h : i32, j : i32, l : i32) -> vec2<f32> {
    let i = (h * 4 + j) * uniforms.L + l;
    return vec2<f32>(s[i], s[uniforms.H * 4 * uniforms.L + i]);
  }
  fn aAt(l : i32) -> vec2<f32> { return 0.5 * vec2<f32>(1.0 + z[2 * l], z[2 * l + 1]); }
`;

const WOODBURY_BODY = `${COMPLEX}${SUMS}
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let hl = index % (uniforms.H * uniforms.L);
    let h = hl / uniforms.L;
    let l = hl % uniforms.L;
    let a = aAt(l);
    let den = vec2<f32>(1.0, 0.0) + cmul(a, sAt(h, 3, l));
    let k = sAt(h, 0, l) - cdiv(cmul(sAt(h, 1, l), cmul(a, sAt(h, 2, l))), den);
    setOutputAtIndex(index, select(k.y, k.x, index < uniforms.H * uniforms.L));
  }`;

const WOODBURY_GRAD_BODY = `${COMPLEX}${SUMS}
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let plane = uniforms.H * 4 * uniforms.L;
    let i = index % plane;
    let l = i % uniforms.L;
    let hj = i / uniforms.L;
    let j = hj % 4;
    let h = hj / 4;
    let a = aAt(l);
    let den = vec2<f32>(1.0, 0.0) + cmul(a, sAt(h, 3, l));
    let d1 = cdiv(cmul(a, sAt(h, 2, l)), den);
    let d2 = cdiv(cmul(a, sAt(h, 1, l)), den);
    var d = vec2<f32>(1.0, 0.0);
    if (j == 1) { d = -d1; } else if (j == 2) { d = -d2; } else if (j == 3) { d = cmul(d1, d2); }
    let gi = h * uniforms.L + l;
    let gs = cmul(conj2(d), vec2<f32>(g[gi], g[uniforms.H * uniforms.L + gi]));
    setOutputAtIndex(index, select(gs.y, gs.x, index < plane));
  }`;

const NAMES = [...WEIGHT_INPUTS];

registerWebGPUKernel(WEIGHTS, NAMES, ([shape]) => {
  const [H, N] = shape;
  return [
    { program: flatProgram("dplrWeights", NAMES, [H, 4, N, 2], WEIGHTS_BODY, "N : i32,"), inputs: [0, 1, 2, 3, 4, 5], uniforms: [N] },
  ];
});

registerWebGPUKernel(WEIGHTS_GRAD, [...NAMES, "g"], ([shape]) => {
  const [H, N] = shape;
  return NAMES.map((_, which) => ({
    program: flatProgram("dplrWeightsGrad", [...NAMES, "g"], [H, N], WEIGHTS_GRAD_BODY, "N : i32, which : i32,"),
    inputs: [0, 1, 2, 3, 4, 5, 6],
    uniforms: [N, which],
  }));
});

registerWebGPUKernel(WOODBURY, ["s", "z"], ([shape]) => {
  const [, H, , L] = shape;
  return [
    { program: flatProgram("dplrWoodbury", ["s", "z"], [2, H, L], WOODBURY_BODY, "H : i32, L : i32,"), inputs: [0, 1], uniforms: [H, L] },
  ];
});

registerWebGPUKernel(WOODBURY_GRAD, ["s", "z", "g"], ([shape]) => {
  const [, H, , L] = shape;
  return [
    {
      program: flatProgram("dplrWoodburyGrad", ["s", "z", "g"], [2, H, 4, L], WOODBURY_GRAD_BODY, "H : i32, L : i32,"),
      inputs: [0, 1, 2],
      uniforms: [H, L],
    },
  ];
});
