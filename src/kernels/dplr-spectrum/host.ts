/**
 * The DPLR weights and Woodbury kernels on the host (cpu and wasm), forward and backward, one
 * unit of work per row h.
 */
import { HostKernelSpec } from "../host-kernel";
import { WEIGHTS, WEIGHTS_GRAD, WEIGHT_INPUTS, WOODBURY, WOODBURY_GRAD } from "./spec";

/** V (H, 4, N, 2) = [conj(c)·b, conj(c)·p, conj(p)·b, conj(p)·p]. */
function weights([[, N]]: number[][], [cr, ci, br, bi, pr, pi]: Float32Array[], out: Float32Array, from: number, to: number): void {
  for (let h = from; h < to; h++) {
    for (let n = 0; n < N; n++) {
      const k = h * N + n;
      const pairs = [
        [cr[k], ci[k], br[k], bi[k]],
        [cr[k], ci[k], pr[k], pi[k]],
        [pr[k], pi[k], br[k], bi[k]],
        [pr[k], pi[k], pr[k], pi[k]],
      ];
      for (let m = 0; m < 4; m++) {
        const [xr, xi, yr, yi] = pairs[m];
        const o = 2 * ((h * 4 + m) * N + n);
        out[o] = xr * yr + xi * yi;
        out[o + 1] = xr * yi - xi * yr;
      }
    }
  }
}

/**
 * g_c = conj(g₀)·b + conj(g₁)·p;  g_b = g₀·c + g₂·p;  g_p = g₁·c + conj(g₂)·b + 2·Re(g₃)·p.
 * Outputs the six planes (H, N) in the order of WEIGHT_INPUTS.
 */
function weightsGrad(
  [[, N]]: number[][],
  [cr, ci, br, bi, pr, pi, g]: Float32Array[],
  [gcr, gci, gbr, gbi, gpr, gpi]: Float32Array[],
  from: number,
  to: number,
): void {
  for (let h = from; h < to; h++) {
    for (let n = 0; n < N; n++) {
      const k = h * N + n;
      const at = (m: number) => 2 * ((h * 4 + m) * N + n);
      const g0r = g[at(0)],
        g0i = g[at(0) + 1],
        g1r = g[at(1)],
        g1i = g[at(1) + 1];
      const g2r = g[at(2)],
        g2i = g[at(2) + 1],
        g3r = g[at(3)];
      gcr[k] = g0r * br[k] + g0i * bi[k] + g1r * pr[k] + g1i * pi[k];
      gci[k] = g0r * bi[k] - g0i * br[k] + g1r * pi[k] - g1i * pr[k];
      gbr[k] = g0r * cr[k] - g0i * ci[k] + g2r * pr[k] - g2i * pi[k];
      gbi[k] = g0r * ci[k] + g0i * cr[k] + g2r * pi[k] + g2i * pr[k];
      gpr[k] = g1r * cr[k] - g1i * ci[k] + g2r * br[k] + g2i * bi[k] + 2 * g3r * pr[k];
      gpi[k] = g1r * ci[k] + g1i * cr[k] + g2r * bi[k] - g2i * br[k] + 2 * g3r * pi[k];
    }
  }
}

/** K̂ (2, H, L) = S₀ − S₁·a·S₂ / (1 + a·S₃), a = (1 + z)/2; complex arithmetic written out
 * in locals (this runs for every (h, l) of every layer, forward and backward). */
function woodbury([[, H, , L]]: number[][], [S, z]: Float32Array[], out: Float32Array, from: number, to: number): void {
  const plane = H * 4 * L;
  for (let h = from; h < to; h++) {
    const row = h * 4 * L;
    for (let l = 0; l < L; l++) {
      const ar = (1 + z[2 * l]) / 2,
        ai = z[2 * l + 1] / 2;
      const i0 = row + l,
        i1 = i0 + L,
        i2 = i1 + L,
        i3 = i2 + L;
      const s1r = S[i1],
        s1i = S[plane + i1],
        s2r = S[i2],
        s2i = S[plane + i2],
        s3r = S[i3],
        s3i = S[plane + i3];
      // q = S₁·(a·S₂) / (1 + a·S₃)
      const tr = ar * s2r - ai * s2i,
        ti = ar * s2i + ai * s2r;
      const nr = s1r * tr - s1i * ti,
        ni = s1r * ti + s1i * tr;
      const dr = 1 + ar * s3r - ai * s3i,
        di = ar * s3i + ai * s3r;
      const dd = dr * dr + di * di;
      out[h * L + l] = S[i0] - (nr * dr + ni * di) / dd;
      out[H * L + h * L + l] = S[plane + i0] - (ni * dr - nr * di) / dd;
    }
  }
}

/**
 * With D = 1 + a·S₃: ∂K̂/∂S₀ = 1, ∂K̂/∂S₁ = −a·S₂/D, ∂K̂/∂S₂ = −a·S₁/D, ∂K̂/∂S₃ = a²·S₁·S₂/D²,
 * and g_Sⱼ = conj(∂K̂/∂Sⱼ)·g. Output (2, H, 4, L), planar like S.
 * It reads a, S₁..S₃ and D as `woodbury` does, in its own loop: one function for both, branching
 * on g, measured about 10% slower in the forward (H = 64, L = 784).
 */
function woodburyGrad([[, H, , L]]: number[][], [S, z, g]: Float32Array[], out: Float32Array, from: number, to: number): void {
  const plane = H * 4 * L;
  for (let h = from; h < to; h++) {
    const row = h * 4 * L;
    for (let l = 0; l < L; l++) {
      const ar = (1 + z[2 * l]) / 2,
        ai = z[2 * l + 1] / 2;
      const i0 = row + l,
        i1 = i0 + L,
        i2 = i1 + L,
        i3 = i2 + L;
      const s1r = S[i1],
        s1i = S[plane + i1],
        s2r = S[i2],
        s2i = S[plane + i2],
        s3r = S[i3],
        s3i = S[plane + i3];
      const dr = 1 + ar * s3r - ai * s3i,
        di = ar * s3i + ai * s3r;
      const dd = dr * dr + di * di;
      // d1 = a·S₂/D, d2 = a·S₁/D (complex division: x·conj(D)/|D|²)
      const t2r = ar * s2r - ai * s2i,
        t2i = ar * s2i + ai * s2r;
      const t1r = ar * s1r - ai * s1i,
        t1i = ar * s1i + ai * s1r;
      const d1r = (t2r * dr + t2i * di) / dd,
        d1i = (t2i * dr - t2r * di) / dd;
      const d2r = (t1r * dr + t1i * di) / dd,
        d2i = (t1i * dr - t1r * di) / dd;
      const d3r = d1r * d2r - d1i * d2i,
        d3i = d1r * d2i + d1i * d2r;
      const gr = g[h * L + l],
        gi = g[H * L + h * L + l];
      // g_Sⱼ = conj(dⱼ)·g with d₀ = 1, d₁ = −d1, d₂ = −d2, d₃ = d3
      out[i0] = gr;
      out[plane + i0] = gi;
      out[i1] = -(d1r * gr + d1i * gi);
      out[plane + i1] = -(d1r * gi - d1i * gr);
      out[i2] = -(d2r * gr + d2i * gi);
      out[plane + i2] = -(d2r * gi - d2i * gr);
      out[i3] = d3r * gr + d3i * gi;
      out[plane + i3] = d3r * gi - d3i * gr;
    }
  }
}

export const WEIGHTS_HOST: HostKernelSpec = {
  name: WEIGHTS,
  inputs: WEIGHT_INPUTS,
  plan: ([[H, N]]) => ({ outputs: [[H, 4, N, 2]], phases: [H] }),
  run: (_phase, b, from, to) => weights(b.shapes, b.ins, b.outs[0], from, to),
};

export const WEIGHTS_GRAD_HOST: HostKernelSpec = {
  name: WEIGHTS_GRAD,
  inputs: [...WEIGHT_INPUTS, "g"],
  plan: ([[H, N]]) => ({ outputs: WEIGHT_INPUTS.map(() => [H, N]), phases: [H] }),
  run: (_phase, b, from, to) => weightsGrad(b.shapes, b.ins, b.outs, from, to),
};

export const WOODBURY_HOST: HostKernelSpec = {
  name: WOODBURY,
  inputs: ["s", "z"],
  plan: ([[, H, , L]]) => ({ outputs: [[2, H, L]], phases: [H] }),
  run: (_phase, b, from, to) => woodbury(b.shapes, b.ins, b.outs[0], from, to),
};

export const WOODBURY_GRAD_HOST: HostKernelSpec = {
  name: WOODBURY_GRAD,
  inputs: ["s", "z", "g"],
  plan: ([s]) => ({ outputs: [s], phases: [s[1]] }),
  run: (_phase, b, from, to) => woodburyGrad(b.shapes, b.ins, b.outs[0], from, to),
};
