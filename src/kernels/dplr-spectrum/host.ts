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

/** K̂ (2, H, L) = S₀ − S₁·a·S₂ / (1 + a·S₃), a = (1 + z)/2; complex arithmetic written out
 * in locals (this runs for every (h, l) of every layer, forward and backward). */
function woodbury(ins: HostInput[]) {
  const [, H, , L] = ins[0].shape;
  const [S, z] = ins.map((i) => i.values);
  const plane = H * 4 * L, out = new Float32Array(2 * H * L);
  for (let h = 0; h < H; h++) {
    const row = h * 4 * L;
    for (let l = 0; l < L; l++) {
      const ar = (1 + z[2 * l]) / 2, ai = z[2 * l + 1] / 2;
      const i0 = row + l, i1 = i0 + L, i2 = i1 + L, i3 = i2 + L;
      const s1r = S[i1], s1i = S[plane + i1], s2r = S[i2], s2i = S[plane + i2], s3r = S[i3], s3i = S[plane + i3];
      // q = S₁·(a·S₂) / (1 + a·S₃)
      const tr = ar * s2r - ai * s2i, ti = ar * s2i + ai * s2r;
      const nr = s1r * tr - s1i * ti, ni = s1r * ti + s1i * tr;
      const dr = 1 + ar * s3r - ai * s3i, di = ar * s3i + ai * s3r;
      const dd = dr * dr + di * di;
      out[h * L + l] = S[i0] - (nr * dr + ni * di) / dd;
      out[H * L + h * L + l] = S[plane + i0] - (ni * dr - nr * di) / dd;
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
  const plane = H * 4 * L, out = new Float32Array(2 * plane);
  for (let h = 0; h < H; h++) {
    const row = h * 4 * L;
    for (let l = 0; l < L; l++) {
      const ar = (1 + z[2 * l]) / 2, ai = z[2 * l + 1] / 2;
      const i0 = row + l, i1 = i0 + L, i2 = i1 + L, i3 = i2 + L;
      const s1r = S[i1], s1i = S[plane + i1], s2r = S[i2], s2i = S[plane + i2], s3r = S[i3], s3i = S[plane + i3];
      const dr = 1 + ar * s3r - ai * s3i, di = ar * s3i + ai * s3r;
      const dd = dr * dr + di * di;
      // d1 = a·S₂/D, d2 = a·S₁/D (complex division: x·conj(D)/|D|²)
      const t2r = ar * s2r - ai * s2i, t2i = ar * s2i + ai * s2r;
      const t1r = ar * s1r - ai * s1i, t1i = ar * s1i + ai * s1r;
      const d1r = (t2r * dr + t2i * di) / dd, d1i = (t2i * dr - t2r * di) / dd;
      const d2r = (t1r * dr + t1i * di) / dd, d2i = (t1i * dr - t1r * di) / dd;
      const d3r = d1r * d2r - d1i * d2i, d3i = d1r * d2i + d1i * d2r;
      const gr = g[h * L + l], gi = g[H * L + h * L + l];
      // g_Sⱼ = conj(dⱼ)·g with d₀ = 1, d₁ = −d1, d₂ = −d2, d₃ = d3
      out[i0] = gr; out[plane + i0] = gi;
      out[i1] = -(d1r * gr + d1i * gi); out[plane + i1] = -(d1r * gi - d1i * gr);
      out[i2] = -(d2r * gr + d2i * gi); out[plane + i2] = -(d2r * gi - d2i * gr);
      out[i3] = d3r * gr + d3i * gi; out[plane + i3] = d3r * gi - d3i * gr;
    }
  }
  return { values: out, shape: [2, H, 4, L] };
}

registerHostKernel(WEIGHTS, WEIGHT_INPUTS, weights);
registerHostKernel(WEIGHTS_GRAD, [...WEIGHT_INPUTS, "g"], weightsGrad);
registerHostKernel(WOODBURY, ["s", "z"], woodbury);
registerHostKernel(WOODBURY_GRAD, ["s", "z", "g"], woodburyGrad);
