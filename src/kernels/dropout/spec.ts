/**
 * Counter-based dropout: the mask is a pure function of (seed, element index), so it is drawn
 * where the tensor lives (no random numbers made on the host and uploaded each step), the same
 * on every backend, and recomputed rather than stored for the backward pass.
 *
 *   keep[i] = hash(hash(i) ^ hash(seed)) < threshold,  threshold = round((1 − rate) · 2³²)
 *   y[i]    = keep[i] ? x[i] · scale : 0,        scale = fround(1 / (1 − rate))
 *
 * The hash is the PCG "RXS M XS" output permutation (O'Neill, 2014), a cheap 32-bit mixer whose
 * output passes the usual statistical tests well enough for dropout masks. Hashing the index
 * before mixing in the seed keeps the masks of two seeds from being shifted copies of each other.
 */

/** Forward and backward are one kernel: dL/dx = dL/dy masked and scaled by the same mask. */
export const KERNEL = "SeededDropout";

/** PCG RXS-M-XS hash of a 32-bit word (uint32 arithmetic; Math.imul wraps like WGSL's u32). */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The kernel's integer attributes for a rate in (0, 1) and a 32-bit seed. */
export function dropoutAttrs(rate: number, seed: number): { seed: number; threshold: number; scaleBits: number } {
  const threshold = Math.min(Math.round((1 - rate) * 2 ** 32), 2 ** 32 - 1);
  const bits = new Int32Array(new Float32Array([1 / (1 - rate)]).buffer)[0];
  // Uniforms are int32: pass the uint32 values by their bit patterns.
  return { seed: pcgHash(seed) | 0, threshold: threshold | 0, scaleBits: bits };
}

/** The mask scaled for inverted dropout (0 or `scale`), computed on the host: (size). */
export function dropoutMaskValues(size: number, rate: number, seed: number): Float32Array {
  const { seed: s, threshold, scaleBits } = dropoutAttrs(rate, seed);
  const scale = new Float32Array(new Int32Array([scaleBits]).buffer)[0];
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = pcgHash((pcgHash(i) ^ s) >>> 0) < threshold >>> 0 ? scale : 0;
  return out;
}
