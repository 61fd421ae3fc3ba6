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
import { HostKernelSpec, sizeOf } from "../host-kernel";
import { GRAD_KERNEL, KERNEL } from "./names";

/** Rows (..., L) of a shape, and L. */
function rowsOf(shape: number[]): { rows: number; L: number } {
  const L = shape[shape.length - 1];
  const size = sizeOf(shape);
  return { rows: size === 0 ? 0 : size / L, L };
}

/** What one row pair does: rows at offsets o1 and o2 (o2 < 0: row o1 is alone), float64 scratch z (L). */
type RowPairVisit = (L: number, o1: number, o2: number, zr: Float64Array, zi: Float64Array) => void;

/** Runs `visit` on the row pairs [from, to) of rows (..., L): pair p holds rows 2p and 2p + 1. */
function forEachRowPair(shape: number[], from: number, to: number, visit: RowPairVisit): void {
  const { rows, L } = rowsOf(shape);
  const zr = new Float64Array(L),
    zi = new Float64Array(L);
  for (let r1 = 2 * from; r1 < rows && r1 < 2 * to; r1 += 2) {
    const r2 = r1 + 1 < rows ? r1 + 1 : -1;
    visit(L, r1 * L, r2 < 0 ? -1 : r2 * L, zr, zi);
  }
}

/** Inputs re, im (..., L) → y (..., L): the row pairs [from, to). */
function forward(shape: number[], xr: Float32Array, xi: Float32Array, y: Float32Array, from: number, to: number): void {
  forEachRowPair(shape, from, to, (L, o1, o2, zr, zi) => {
    for (let k = 0; k < L; k++) {
      const n = k === 0 ? 0 : L - k; // −k mod L
      // S1 = Hermitian part of row o1, S2 of row o2; Z = S1 + i·S2
      const s1r = 0.5 * (xr[o1 + k] + xr[o1 + n]),
        s1i = 0.5 * (xi[o1 + k] - xi[o1 + n]);
      const s2r = o2 < 0 ? 0 : 0.5 * (xr[o2 + k] + xr[o2 + n]),
        s2i = o2 < 0 ? 0 : 0.5 * (xi[o2 + k] - xi[o2 + n]);
      zr[k] = s1r - s2i;
      zi[k] = s1i + s2r;
    }
    dftInPlace(zr, zi, true);
    for (let j = 0; j < L; j++) y[o1 + j] = zr[j] / L;
    if (o2 >= 0) for (let j = 0; j < L; j++) y[o2 + j] = zi[j] / L;
  });
}

/** Input dy (..., L) → (2, ..., L): d re, then d im; the row pairs [from, to). */
function backward(shape: number[], g: Float32Array, out: Float32Array, from: number, to: number): void {
  const size = g.length;
  const gr = out.subarray(0, size),
    gi = out.subarray(size);
  forEachRowPair(shape, from, to, (L, o1, o2, zr, zi) => {
    for (let k = 0; k < L; k++) {
      zr[k] = g[o1 + k];
      zi[k] = o2 < 0 ? 0 : g[o2 + k];
    }
    dftInPlace(zr, zi);
    for (let k = 0; k < L; k++) {
      const n = k === 0 ? 0 : L - k;
      const ar = zr[k],
        ai = zi[k],
        cr = zr[n],
        ci = -zi[n]; // a = Z[k], c = conj Z[−k]
      gr[o1 + k] = (0.5 * (ar + cr)) / L;
      gi[o1 + k] = (0.5 * (ai + ci)) / L;
      if (o2 >= 0) {
        gr[o2 + k] = (0.5 * (ai - ci)) / L;
        gi[o2 + k] = (-0.5 * (ar - cr)) / L;
      }
    }
  });
}

/** Units are pairs of rows (one complex transform each). */
const pairs = (shape: number[]) => Math.ceil(rowsOf(shape).rows / 2);

export const IRDFT_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["re", "im"],
  plan: ([shape]) => ({ outputs: [shape], phases: [pairs(shape)] }),
  run: (_phase, b, from, to) => forward(b.shapes[0], b.ins[0], b.ins[1], b.outs[0], from, to),
};

export const IRDFT_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy"],
  plan: ([shape]) => ({ outputs: [[2, ...shape]], phases: [pairs(shape)] }),
  run: (_phase, b, from, to) => backward(b.shapes[0], b.ins[0], b.outs[0], from, to),
};
