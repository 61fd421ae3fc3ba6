/**
 * WebGPU kernels for the Cauchy sums: WGSL compute shaders, one thread per output value.
 * Each thread recomputes the Cauchy terms it needs — on a GPU recomputing is cheaper than
 * storing the (H, N, L) matrix. Complex inputs come interleaved, (re, im) on a last axis of 2;
 * S and its gradient g are planar, (2, H, M, L) (see host.ts for why).
 */
import { flatProgram, registerWebGPUKernel } from "../registry";
import { CAUCHY, CAUCHY_GRAD, INPUTS } from "./host";

const NAMES = [...INPUTS];
const GRAD_NAMES = [...INPUTS, "g"];

/** WGSL: den = (2/Δ)(1 − z) − λ(1 + z) and r = 2/den for row h, mode n, point l. */
const CAUCHY_TERM = `
  fn cplx(a : f32, b : f32) -> vec2<f32> { return vec2<f32>(a, b); }
  fn cmul(a : vec2<f32>, b : vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
  fn conj2(a : vec2<f32>) -> vec2<f32> { return vec2<f32>(a.x, -a.y); }
  fn lambdaAt(h : i32, n : i32) -> vec2<f32> { let i = 2 * (h * uniforms.N + n); return cplx(lambda[i], lambda[i + 1]); }
  fn zAt(l : i32) -> vec2<f32> { return cplx(z[2 * l], z[2 * l + 1]); }
  fn cauchyDen(h : i32, n : i32, l : i32) -> vec2<f32> {
    let zl = zAt(l);
    return (2.0 / step[h]) * cplx(1.0 - zl.x, -zl.y) - cmul(lambdaAt(h, n), cplx(1.0 + zl.x, zl.y));
  }
  fn cauchyR(den : vec2<f32>) -> vec2<f32> { return (2.0 / dot(den, den)) * conj2(den); }
`;

const V_AT = `
  fn vAt(hm : i32, n : i32) -> vec2<f32> { let i = 2 * (hm * uniforms.N + n); return cplx(v[i], v[i + 1]); }
`;

const UNIFORMS = "H : i32, M : i32, N : i32, L : i32,";

/** S[h, m, l] = Σ_n v[h, m, n]·r[h, n, l]: thread per (h, m, l), writing (re, im). */
const FORWARD = `${CAUCHY_TERM}${V_AT}
  fn main(index : i32) {
    if (index >= uniforms.H * uniforms.M * uniforms.L) { return; }
    let l = index % uniforms.L;
    let hm = index / uniforms.L;
    let h = hm / uniforms.M;
    var acc = vec2<f32>(0.0, 0.0);
    for (var n = 0; n < uniforms.N; n++) {
      acc += cmul(vAt(hm, n), cauchyR(cauchyDen(h, n, l)));
    }
    result[index] = acc.x;
    result[uniforms.H * uniforms.M * uniforms.L + index] = acc.y;
  }`;

/** g_den[h, n, l] = −(Σ_m g_S[m, l]·conj(v[m, n]))·conj(r)²/2. */
const GRAD_DEN = `${V_AT}
  fn gAt(hm : i32, l : i32) -> vec2<f32> { let i = hm * uniforms.L + l; return cplx(g[i], g[uniforms.H * uniforms.M * uniforms.L + i]); }
  fn gradDen(h : i32, n : i32, l : i32, r : vec2<f32>) -> vec2<f32> {
    var gr = vec2<f32>(0.0, 0.0);
    for (var m = 0; m < uniforms.M; m++) {
      gr += cmul(gAt(h * uniforms.M + m, l), conj2(vAt(h * uniforms.M + m, n)));
    }
    let c = conj2(cmul(r, r)) * 0.5;
    return -cmul(gr, c);
  }
`;

/** g_λ[h, n] = −Σ_l g_den·conj(1 + z): thread per (h, n). */
const GRAD_LAMBDA = `${CAUCHY_TERM}${GRAD_DEN}
  fn main(index : i32) {
    if (index >= uniforms.H * uniforms.N) { return; }
    let h = index / uniforms.N;
    let n = index % uniforms.N;
    var acc = vec2<f32>(0.0, 0.0);
    for (var l = 0; l < uniforms.L; l++) {
      let zl = zAt(l);
      acc -= cmul(gradDen(h, n, l, cauchyR(cauchyDen(h, n, l))), cplx(1.0 + zl.x, -zl.y));
    }
    result[2 * index] = acc.x;
    result[2 * index + 1] = acc.y;
  }`;

/** g_v[h, m, n] = Σ_l g_S[h, m, l]·conj(r[h, n, l]): thread per (h, m, n). */
const GRAD_V = `${CAUCHY_TERM}
  fn gAt(hm : i32, l : i32) -> vec2<f32> { let i = hm * uniforms.L + l; return cplx(g[i], g[uniforms.H * uniforms.M * uniforms.L + i]); }
  fn main(index : i32) {
    if (index >= uniforms.H * uniforms.M * uniforms.N) { return; }
    let n = index % uniforms.N;
    let hm = index / uniforms.N;
    let h = hm / uniforms.M;
    var acc = vec2<f32>(0.0, 0.0);
    for (var l = 0; l < uniforms.L; l++) {
      acc += cmul(gAt(hm, l), conj2(cauchyR(cauchyDen(h, n, l))));
    }
    result[2 * index] = acc.x;
    result[2 * index + 1] = acc.y;
  }`;

/** Partial sums P[h, n] = Σ_l Re(g_den·conj(1 − z)): thread per (h, n). */
const GRAD_STEP_PARTIAL = `${CAUCHY_TERM}${GRAD_DEN}
  fn main(index : i32) {
    if (index >= uniforms.H * uniforms.N) { return; }
    let h = index / uniforms.N;
    let n = index % uniforms.N;
    var acc = 0.0;
    for (var l = 0; l < uniforms.L; l++) {
      let zl = zAt(l);
      acc += dot(gradDen(h, n, l, cauchyR(cauchyDen(h, n, l))), cplx(1.0 - zl.x, -zl.y));
    }
    result[index] = acc;
  }`;

/** ∂loss/∂Δ_h = (−2/Δ²)·Σ_n P[h, n]: thread per h, reading the partial sums. */
const GRAD_STEP = `
  fn main(index : i32) {
    if (index >= uniforms.H) { return; }
    var acc = 0.0;
    for (var n = 0; n < uniforms.N; n++) { acc += partial[index * uniforms.N + n]; }
    result[index] = acc * -2.0 / (step[index] * step[index]);
  }`;

function sizes(shapes: number[][]) {
  const [H, N] = shapes[0];
  return { H, N, M: shapes[1][1], L: shapes[3][0] };
}

registerWebGPUKernel(CAUCHY, NAMES, (shapes) => {
  const { H, N, M, L } = sizes(shapes);
  return [
    {
      program: flatProgram("cauchyBilinear", NAMES, [2, H, M, L], FORWARD, UNIFORMS, H * M * L),
      inputs: [0, 1, 2, 3],
      uniforms: [H, M, N, L],
    },
  ];
});

registerWebGPUKernel(CAUCHY_GRAD, GRAD_NAMES, (shapes) => {
  const { H, N, M, L } = sizes(shapes);
  const all = [0, 1, 2, 3, 4];
  const uniforms = [H, M, N, L];
  return [
    { program: flatProgram("cauchyGradLambda", GRAD_NAMES, [H, N, 2], GRAD_LAMBDA, UNIFORMS, H * N), inputs: all, uniforms },
    // g_v does not read v: WGSL drops unused bindings, so v is left out of this program's inputs
    {
      program: flatProgram("cauchyGradV", ["lambda", "step", "z", "g"], [H, M, N, 2], GRAD_V, UNIFORMS, H * M * N),
      inputs: [0, 2, 3, 4],
      uniforms,
    },
    // ∂/∂Δ in two passes, so that H·N threads share the work instead of H
    {
      program: flatProgram("cauchyGradStepPartial", GRAD_NAMES, [H, N], GRAD_STEP_PARTIAL, UNIFORMS, H * N),
      inputs: all,
      uniforms,
      output: false,
    },
    { program: flatProgram("cauchyGradStep", ["step", "partial"], [H], GRAD_STEP, UNIFORMS, H), inputs: [2, 7], uniforms },
  ];
});
