/** The DPLR weights and Woodbury kernels on the host (cpu and wasm), forward and backward. */
import { HostInput, registerHostKernel } from "../registry";
import { WEIGHTS, WEIGHTS_GRAD, WEIGHT_INPUTS, WOODBURY, WOODBURY_GRAD } from "./spec";

/** V (H, 4, N, 2) = [conj(c)·b, conj(c)·p, conj(p)·b, conj(p)·p]. */
function weights(ins: HostInput[]) {
  const [H, N] = ins[0].shape;
  const [cr, ci, br, bi, pr, pi] = ins.map((i) => i.values);
  const out = new Float32Array(H * 4 * N * 2);
  for (let h = 0; h < H; h++) {
    for (let n = 0; n < N; n++) {
      const k = h * N + n;
      const pairs = [
        [cr[k], ci[k], br[k], bi[k]], [cr[k], ci[k], pr[k], pi[k]],
        [pr[k], pi[k], br[k], bi[k]], [pr[k], pi[k], pr[k], pi[k]],
      ];
      for (let m = 0; m < 4; m++) {
        const [xr, xi, yr, yi] = pairs[m];
        const o = 2 * ((h * 4 + m) * N + n);
        out[o] = xr * yr + xi * yi;
        out[o + 1] = xr * yi - xi * yr;
      }
    }
  }
  return { values: out, shape: [H, 4, N, 2] };
}

/**
 * g_c = conj(g₀)·b + conj(g₁)·p;  g_b = g₀·c + g₂·p;  g_p = g₁·c + conj(g₂)·b + 2·Re(g₃)·p.
 * Outputs the six planes (H, N) in the order of WEIGHT_INPUTS.
 */
function weightsGrad(ins: HostInput[]) {
  const [H, N] = ins[0].shape;
  const [cr, ci, br, bi, pr, pi, g] = ins.map((i) => i.values);
  const outs = WEIGHT_INPUTS.map(() => new Float32Array(H * N));
  const [gcr, gci, gbr, gbi, gpr, gpi] = outs;
  for (let h = 0; h < H; h++) {
    for (let n = 0; n < N; n++) {
      const k = h * N + n;
      const at = (m: number) => 2 * ((h * 4 + m) * N + n);
      const g0r = g[at(0)], g0i = g[at(0) + 1], g1r = g[at(1)], g1i = g[at(1) + 1];
      const g2r = g[at(2)], g2i = g[at(2) + 1], g3r = g[at(3)];
      gcr[k] = g0r * br[k] + g0i * bi[k] + g1r * pr[k] + g1i * pi[k];
      gci[k] = g0r * bi[k] - g0i * br[k] + g1r * pi[k] - g1i * pr[k];
      gbr[k] = g0r * cr[k] - g0i * ci[k] + g2r * pr[k] - g2i * pi[k];
      gbi[k] = g0r * ci[k] + g0i * cr[k] + g2r * pi[k] + g2i * pr[k];
      gpr[k] = g1r * cr[k] - g1i * ci[k] + g2r * br[k] + g2i * bi[k] + 2 * g3r * pr[k];
      gpi[k] = g1r * ci[k] + g1i * cr[k] + g2r * bi[k] - g2i * br[k] + 2 * g3r * pi[k];
    }
  }
  return outs.map((values) => ({ values, shape: [H, N] }));
}

/** Complex helpers on [re, im] pairs, in float64. */
type C = [number, number];
const mul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const div = (a: C, b: C): C => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};

/** The four sums and a = (1 + z)/2 at (h, l), from S (2, H, 4, L) and z (L, 2). */
function sumsAt(S: Float32Array, z: Float32Array, H: number, L: number, h: number, l: number): { s: C[]; a: C } {
  const plane = H * 4 * L;
  const s = [0, 1, 2, 3].map((j): C => [S[(h * 4 + j) * L + l], S[plane + (h * 4 + j) * L + l]]);
  return { s, a: [(1 + z[2 * l]) / 2, z[2 * l + 1] / 2] };
}

/** K̂ (2, H, L) = S₀ − S₁·a·S₂ / (1 + a·S₃). */
function woodbury(ins: HostInput[]) {
  const [, H, , L] = ins[0].shape;
  const [S, z] = ins.map((i) => i.values);
  const out = new Float32Array(2 * H * L);
  for (let h = 0; h < H; h++) {
    for (let l = 0; l < L; l++) {
      const { s, a } = sumsAt(S, z, H, L, h, l);
      const as3 = mul(a, s[3]);
      const q = div(mul(s[1], mul(a, s[2])), [1 + as3[0], as3[1]]);
      out[h * L + l] = s[0][0] - q[0];
      out[H * L + h * L + l] = s[0][1] - q[1];
    }
  }
  return { values: out, shape: [2, H, L] };
}

/**
 * With D = 1 + a·S₃: ∂K̂/∂S₀ = 1, ∂K̂/∂S₁ = −a·S₂/D, ∂K̂/∂S₂ = −a·S₁/D, ∂K̂/∂S₃ = a²·S₁·S₂/D²,
 * and g_Sⱼ = conj(∂K̂/∂Sⱼ)·g. Output (2, H, 4, L), planar like S.
 */
function woodburyGrad(ins: HostInput[]) {
  const [, H, , L] = ins[0].shape;
  const [S, z, g] = ins.map((i) => i.values);
  const out = new Float32Array(2 * H * 4 * L);
  const plane = H * 4 * L;
  for (let h = 0; h < H; h++) {
    for (let l = 0; l < L; l++) {
      const { s, a } = sumsAt(S, z, H, L, h, l);
      const as3 = mul(a, s[3]);
      const D: C = [1 + as3[0], as3[1]];
      const d1 = div(mul(a, s[2]), D), d2 = div(mul(a, s[1]), D);
      const d3 = mul(d1, d2);
      const derivs: C[] = [[1, 0], [-d1[0], -d1[1]], [-d2[0], -d2[1]], d3];
      const gk: C = [g[h * L + l], g[H * L + h * L + l]];
      for (let j = 0; j < 4; j++) {
        const gs = mul([derivs[j][0], -derivs[j][1]], gk);
        out[(h * 4 + j) * L + l] = gs[0];
        out[plane + (h * 4 + j) * L + l] = gs[1];
      }
    }
  }
  return { values: out, shape: [2, H, 4, L] };
}

registerHostKernel(WEIGHTS, WEIGHT_INPUTS, weights);
registerHostKernel(WEIGHTS_GRAD, [...WEIGHT_INPUTS, "g"], weightsGrad);
registerHostKernel(WOODBURY, ["s", "z"], woodbury);
registerHostKernel(WOODBURY_GRAD, ["s", "z", "g"], woodburyGrad);
