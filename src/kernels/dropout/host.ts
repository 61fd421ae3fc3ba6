/**
 * Seeded dropout on the host (cpu and wasm): one pass computing the mask as it goes; the threads
 * share the elements in chunks of fixed size (the mask is a function of the global index, so any
 * split gives the same result).
 *
 * The hash is spec.ts's pcgHash written in int32 arithmetic (same bits), so that V8 keeps every
 * step in 32-bit integer registers. No branch on the mask, which is random (a branch would be
 * mispredicted for about `rate` of the elements, which at rate 0.25 cost more than the hashes):
 * each element is written as x·scale, then its bits are and-ed with all ones (kept) or zeros
 * (dropped, giving +0, as spec.ts has it).
 */
import { HostKernelSpec, elementUnits, sizeOf, unitElements } from "../host-kernel";
import { KERNEL } from "./spec";

/** Flipping the sign bit maps uint32 order onto int32 order. */
const SIGN = 0x80000000 | 0;
/** pcgHash's increment 2891336453 as an int32 word. */
const INCREMENT = 2891336453 | 0;

/** pcgHash (spec.ts) of the 32-bit word v, as an int32 word. */
function hash32(v: number): number {
  const state = (Math.imul(v, 747796405) + INCREMENT) | 0;
  const word = Math.imul((state >>> ((state >>> 28) + 4)) ^ state, 277803737);
  return (word >>> 22) ^ word;
}

/**
 * All ones when h < threshold as uint32 words, else 0. With the sign bits flipped, uint32 order is
 * int32 order; a < b for int32 words exactly when (a >> 1) − (b >> 1) − (~a & b & 1) < 0, a
 * difference that never overflows int32, so its sign bit spread by >> 31 is the mask.
 */
function keepMask(h: number, limitHalf: number, limitLow: number): number {
  const a = h ^ SIGN;
  return ((a >> 1) - limitHalf - (~a & limitLow)) >> 31;
}

/** y[i] = keep[i] ? x[i]·scale : 0 for the elements of units [from, to). */
function apply(x: Float32Array, y: Float32Array, seed: number, threshold: number, scale: number, from: number, to: number): void {
  const bits = new Int32Array(y.buffer, y.byteOffset, y.length);
  const [start, end] = unitElements(from, to, x.length);
  const limit = threshold ^ SIGN,
    limitHalf = limit >> 1,
    limitLow = limit & 1;
  for (let i = start; i < end; i++) {
    y[i] = x[i] * scale;
    bits[i] &= keepMask(hash32(hash32(i) ^ seed), limitHalf, limitLow);
  }
}

export const DROPOUT_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x"],
  plan: ([shape]) => ({ outputs: [shape], phases: [elementUnits(sizeOf(shape))] }),
  run: (_phase, b, from, to) => {
    const { seed, threshold, scaleBits } = b.attrs as { seed: number; threshold: number; scaleBits: number };
    const scale = new Float32Array(new Int32Array([scaleBits]).buffer)[0];
    apply(b.ins[0], b.outs[0], seed | 0, threshold | 0, scale, from, to);
  },
};
