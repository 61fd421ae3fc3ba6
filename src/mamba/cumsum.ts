/**
 * Cumulative sums, the simplest scan: s_t = x_0 + x_1 + … + x_t.
 *
 * The loop takes l steps, each waiting for the one before. The blocked version cuts the sequence
 * into blocks and needs only steps that are parallel across blocks:
 *   1. the cumulative sum inside every block, all blocks at once (one matmul with a triangle of ones);
 *   2. a scan of the block totals: a sequence `blockSize` times shorter, done the same way, recursively;
 *   3. adding to each block the total of all blocks before it (its carry).
 * The same three stages, with (a, b) pairs in place of numbers, give the chunked linear scan.
 */
import * as tf from "@tensorflow/tfjs";
import { lastDim, leadingShape, padLast, shiftRight, sliceLast } from "./last-axis";
import { checkSequence, checkSize } from "./scan-args";
import { formatShape } from "../shape-format";

/** The cumulative sum of one sequence by the plain loop, in float64. */
export function cumsumSequential(x: ArrayLike<number>): Float64Array {
  const s = new Float64Array(x.length);
  let total = 0;
  for (let t = 0; t < x.length; t++) {
    total += x[t]; // s_t = s_{t−1} + x_t: step t needs step t − 1
    s[t] = total;
  }
  return s;
}

/** The intermediate results of `cumsumBlocked`, for showing each stage. */
export interface CumsumBlockedStages {
  /** x padded with zeros to whole blocks and cut into them: (..., nBlocks, blockSize). */
  blocks: tf.Tensor;
  /** Stage 1, the cumulative sum inside each block: (..., nBlocks, blockSize). */
  withinBlocks: tf.Tensor;
  /** The sum of each block (the last column of stage 1): (..., nBlocks). */
  totals: tf.Tensor;
  /** Stage 2, the sum of all blocks before each block: (..., nBlocks). */
  carries: tf.Tensor;
  /** Stage 3, carries added and the padding dropped: (..., l), equal to tf.cumsum(x, −1). */
  result: tf.Tensor;
}

/** x: (..., l) → (..., ⌈l / blockSize⌉, blockSize), the last block padded with zeros. */
export function toBlocks(x: tf.Tensor, blockSize: number): tf.Tensor {
  checkSequence("toBlocks", "x", x);
  checkSize("toBlocks", "blockSize", blockSize);
  return tf.tidy(() => {
    const l = lastDim(x),
      nBlocks = Math.ceil(l / blockSize);
    // zeros change no sum, so padding the end is harmless; it is cut off again in stage 3
    return tf.reshape(padLast(x, 0, nBlocks * blockSize - l), [...leadingShape(x), nBlocks, blockSize]);
  });
}

/** U (k, k) with U[i][j] = 1 when i ≤ j: (x U)_j = x_0 + … + x_j. */
function upperTriangleOfOnes(k: number): tf.Tensor2D {
  const U = new Float32Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) U[i * k + j] = 1;
  return tf.tensor2d(U, [k, k]);
}

/** Stage 1: blocks (..., nBlocks, k) → the cumulative sum inside each block, same shape. */
export function cumsumWithinBlocks(blocks: tf.Tensor): tf.Tensor {
  checkSequence("cumsumWithinBlocks", "blocks", blocks, "(..., nBlocks, blockSize)");
  return tf.tidy(() => {
    const k = lastDim(blocks);
    // Every block times the same triangle: one matmul, no step waits for another.
    const rows = tf.reshape(blocks, [-1, k]); // (rows, k)
    return tf.reshape(tf.matMul(rows, upperTriangleOfOnes(k)), blocks.shape);
  });
}

/** The total of each block: the last entry of its cumulative sum, (..., nBlocks, k) → (..., nBlocks). */
export function blockTotals(withinBlocks: tf.Tensor): tf.Tensor {
  checkSequence("blockTotals", "withinBlocks", withinBlocks, "(..., nBlocks, blockSize)");
  if (withinBlocks.rank < 2)
    throw new Error(`blockTotals: withinBlocks must have shape (..., nBlocks, blockSize), got ${formatShape(withinBlocks.shape)}`);
  return tf.tidy(() => tf.squeeze(sliceLast(withinBlocks, lastDim(withinBlocks) - 1, 1), [withinBlocks.rank - 1]));
}

/**
 * Stage 2: totals (..., nBlocks) → carries (..., nBlocks), carry_j = total_0 + … + total_{j−1}.
 * This is itself a cumulative sum (shifted one block later), of a sequence blockSize times
 * shorter, so it recurses; a block size of 1 would not shorten it, so the recursion uses ≥ 2.
 */
export function carriesFromTotals(totals: tf.Tensor, blockSize: number): tf.Tensor {
  checkSequence("carriesFromTotals", "totals", totals, "(..., nBlocks)");
  checkSize("carriesFromTotals", "blockSize", blockSize);
  return tf.tidy(() => {
    const inclusive = lastDim(totals) === 1 ? totals : cumsumBlocked(totals, Math.max(blockSize, 2));
    return shiftRight(inclusive, 1, 0); // the first block has nothing before it
  });
}

/** Stage 3: add each block's carry, flatten the blocks and drop the padding: → (..., l). */
export function addCarries(withinBlocks: tf.Tensor, carries: tf.Tensor, l: number): tf.Tensor {
  checkSequence("addCarries", "withinBlocks", withinBlocks, "(..., nBlocks, blockSize)");
  const nb = withinBlocks.shape[withinBlocks.rank - 2],
    k = lastDim(withinBlocks);
  const lead = withinBlocks.shape.slice(0, -2);
  if (!(carries instanceof tf.Tensor) || formatShape(carries.shape) !== formatShape([...lead, nb])) {
    throw new Error(
      `addCarries: carries must have shape (..., nBlocks) = ${formatShape([...lead, nb])}, got ${carries instanceof tf.Tensor ? formatShape(carries.shape) : typeof carries}`,
    );
  }
  checkSize("addCarries", "l", l);
  if (l > nb * k) throw new Error(`addCarries: l must be at most nBlocks·blockSize = ${nb * k}, got ${l}`);
  return tf.tidy(() => {
    const summed = tf.add(withinBlocks, tf.expandDims(carries, -1)); // (..., nBlocks, k)
    return sliceLast(tf.reshape(summed, [...lead, nb * k]), 0, l);
  });
}

/** All stages of the blocked cumulative sum of x: (..., l) along the last axis. */
export function cumsumBlockedStages(x: tf.Tensor, blockSize: number): CumsumBlockedStages {
  checkSequence("cumsumBlocked", "x", x);
  checkSize("cumsumBlocked", "blockSize", blockSize);
  return tf.tidy(() => {
    const blocks = toBlocks(x, blockSize); // (..., nBlocks, blockSize)
    const withinBlocks = cumsumWithinBlocks(blocks); // stage 1
    const totals = blockTotals(withinBlocks); // (..., nBlocks)
    const carries = carriesFromTotals(totals, blockSize); // stage 2
    const result = addCarries(withinBlocks, carries, lastDim(x)); // stage 3: (..., l)
    return { blocks, withinBlocks, totals, carries, result };
  });
}

/**
 * The cumulative sum of x: (..., l) along its last axis by blocks of `blockSize`; equal to
 * tf.cumsum(x, −1) up to float32 rounding (the sums are added in a different order).
 */
export function cumsumBlocked(x: tf.Tensor, blockSize: number): tf.Tensor {
  checkSequence("cumsumBlocked", "x", x);
  checkSize("cumsumBlocked", "blockSize", blockSize);
  return tf.tidy(() => {
    const withinBlocks = cumsumWithinBlocks(toBlocks(x, blockSize));
    const carries = carriesFromTotals(blockTotals(withinBlocks), blockSize);
    return addCarries(withinBlocks, carries, lastDim(x));
  });
}
