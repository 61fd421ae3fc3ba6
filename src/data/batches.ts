/**
 * Deterministic mini-batch orders: the shuffle depends only on (seed, epoch), so a run that is
 * resumed at a given epoch sees exactly the batches it would have seen without the interruption.
 */
import { mulberry32 } from "../random";

export interface BatchIndicesOptions {
  shuffle: boolean;
  /** Integer seed of the shuffle. */
  seed: number;
  /** Non-negative integer epoch number; each epoch gets its own order. */
  epoch: number;
  /** Drop the final batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
}

/** Mixes seed and epoch into one 32-bit generator seed (a murmur3-style finalizer). */
function mixSeed(seed: number, epoch: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Splits the indices 0..n−1 into batches of batchSize, in a seeded random order (Fisher–Yates)
 * when opts.shuffle is set, otherwise in order. Every index appears exactly once per epoch, except
 * that dropLast leaves out the trailing partial batch.
 */
export function batchIndices(n: number, batchSize: number, opts: BatchIndicesOptions): number[][] {
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`batchIndices: n must be a non-negative integer, got ${n}`);
  }
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new Error(`batchIndices: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (opts === null || typeof opts !== "object") {
    throw new Error(`batchIndices: opts must be an object { shuffle, seed, epoch }, got ${opts}`);
  }
  const { shuffle, seed, epoch, dropLast = false } = opts;
  if (typeof shuffle !== "boolean") {
    throw new Error(`batchIndices: opts.shuffle must be a boolean, got ${shuffle}`);
  }
  if (!Number.isInteger(seed)) {
    throw new Error(`batchIndices: opts.seed must be an integer, got ${seed}`);
  }
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`batchIndices: opts.epoch must be a non-negative integer, got ${epoch}`);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  if (shuffle) {
    const rand = mulberry32(mixSeed(seed, epoch));
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (dropLast && batch.length < batchSize) break;
    batches.push(batch);
  }
  return batches;
}
