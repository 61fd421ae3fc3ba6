/**
 * The real part of the inverse DFT on the host (cpu and wasm backends), in float64, for any
 * length (radix-4 for powers of two, Bluestein otherwise; see fft.ts).
 *
 * Two rows share one complex transform. Forward: Re(IDFT X) = IDFT(S) with S the Hermitian part
 * S[k] = (X[k] + conj X[−k])/2, and IDFT(S1 + i·S2) = y1 + i·y2 since both are real. Backward:
 * the cotangents g1, g2 are real, so Z = DFT(g1 + i·g2) splits into G1 = (Z[k] + conj Z[−k])/2
 * and G2 = −i(Z[k] − conj Z[−k])/2.
 */
import { dftInPlace } from "../../fft";
import { HostInput, HostOutput, registerHostKernel } from "../registry";
import { GRAD_KERNEL, KERNEL } from "./spec";

/** Inputs re, im (..., L) → y (..., L). */
function forward([re, im]: HostInput[]): HostOutput {
  const L = re.shape[re.shape.length - 1];
  const y = new Float32Array(re.values.length);
  if (y.length === 0) return { values: y, shape: re.shape };
  const rows = y.length / L;
  const xr = re.values, xi = im.values;
  const zr = new Float64Array(L), zi = new Float64Array(L);
  for (let r1 = 0; r1 < rows; r1 += 2) {
    const r2 = r1 + 1 < rows ? r1 + 1 : -1;
    const o1 = r1 * L, o2 = r2 * L;
    for (let k = 0; k < L; k++) {
      const n = k === 0 ? 0 : L - k; // −k mod L
      // S1 = Hermitian part of row r1, S2 of row r2; Z = S1 + i·S2
      const s1r = 0.5 * (xr[o1 + k] + xr[o1 + n]), s1i = 0.5 * (xi[o1 + k] - xi[o1 + n]);
      const s2r = r2 < 0 ? 0 : 0.5 * (xr[o2 + k] + xr[o2 + n]), s2i = r2 < 0 ? 0 : 0.5 * (xi[o2 + k] - xi[o2 + n]);
      zr[k] = s1r - s2i;
      zi[k] = s1i + s2r;
    }
    dftInPlace(zr, zi, true);
    for (let j = 0; j < L; j++) y[o1 + j] = zr[j] / L;
    if (r2 >= 0) for (let j = 0; j < L; j++) y[o2 + j] = zi[j] / L;
  }
  return { values: y, shape: re.shape };
}

/** Input dy (..., L) → (2, ..., L): d re, then d im. */
function backward([dy]: HostInput[]): HostOutput {
  const L = dy.shape[dy.shape.length - 1];
  const size = dy.values.length;
  const out = new Float32Array(2 * size);
  const gr = out.subarray(0, size), gi = out.subarray(size);
  if (gr.length > 0) {
    const rows = gr.length / L;
    const g = dy.values;
    const zr = new Float64Array(L), zi = new Float64Array(L);
    for (let r1 = 0; r1 < rows; r1 += 2) {
      const r2 = r1 + 1 < rows ? r1 + 1 : -1;
      const o1 = r1 * L, o2 = r2 * L;
      for (let k = 0; k < L; k++) {
        zr[k] = g[o1 + k];
        zi[k] = r2 < 0 ? 0 : g[o2 + k];
      }
      dftInPlace(zr, zi);
      for (let k = 0; k < L; k++) {
        const n = k === 0 ? 0 : L - k;
        const ar = zr[k], ai = zi[k], cr = zr[n], ci = -zi[n]; // a = Z[k], c = conj Z[−k]
        gr[o1 + k] = (0.5 * (ar + cr)) / L;
        gi[o1 + k] = (0.5 * (ai + ci)) / L;
        if (r2 >= 0) {
          gr[o2 + k] = (0.5 * (ai - ci)) / L;
          gi[o2 + k] = (-0.5 * (ar - cr)) / L;
        }
      }
    }
  }
  return { values: out, shape: [2, ...dy.shape] };
}

registerHostKernel(KERNEL, ["re", "im"], forward);
registerHostKernel(GRAD_KERNEL, ["dy"], backward);
