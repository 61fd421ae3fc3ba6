/**
 * The first-order linear recurrence h_t = a_t·h_{t−1} + b_t, with h_{−1} = 0 (or a given h0),
 * computed along the last axis of a, b: (..., l) for every leading index at once.
 *
 * One step is the affine map h ↦ a·h + b, written as the pair (a, b). Doing (a1, b1) and then
 * (a2, b2) is again such a map:
 *
 *   (a1, b1) ⊕ (a2, b2) = (a1·a2, a2·b1 + b2)
 *
 * and ⊕ is associative (it is composition of maps), with identity (1, 0). So h_t, the b-part of
 * (a_0, b_0) ⊕ … ⊕ (a_t, b_t), can be computed in any bracketing: one after another (the loop),
 * by doubling (Hillis–Steele), by a tree (Blelloch) or by chunks, the same ideas as for cumsum,
 * which is the case a_t = 1.
 */
import * as tf from "@tensorflow/tfjs";
import { evensAndOdds, interleave, lastDim, leadingShape, padLast, shiftRight, sliceLast, stackTime, unstackTime } from "./last-axis";
import { checkScanInputs, checkSize } from "./scan-args";

/** A step (or a run of steps) of the recurrence as the affine map h ↦ a·h + b; a, b: (..., l). */
export type ScanPair = {
  a: tf.Tensor;
  b: tf.Tensor;
};

/** The ways to compute the scan; all give the same h. */
export const SCAN_METHODS = ["sequential", "hillis-steele", "blelloch", "chunked"] as const;
export type ScanMethod = (typeof SCAN_METHODS)[number];

/** Options of the scans: an initial state h0: (...), and for "chunked" the chunk length. */
export interface ScanOptions {
  h0?: tf.Tensor;
  /** Chunk length of the chunked scan (default 64). */
  chunk?: number;
}

export const DEFAULT_CHUNK = 64;

/** (a1, b1) ⊕ (a2, b2) = (a1·a2, a2·b1 + b2): first `earlier`, then `later`, elementwise. */
export function combine(earlier: ScanPair, later: ScanPair): ScanPair {
  return tf.tidy(() => ({
    a: tf.mul(earlier.a, later.a),
    b: tf.add(tf.mul(later.a, earlier.b), later.b),
  }));
}

/** Disposes the tensors of a pair unless it is `keep` (the caller's input). */
function release(p: ScanPair, keep: ScanPair): void {
  if (p.a !== keep.a) p.a.dispose();
  if (p.b !== keep.b) p.b.dispose();
}

/** The pair `s` steps earlier, with the identity (1, 0) before the start. */
const shiftPair = (p: ScanPair, s: number): ScanPair => ({ a: shiftRight(p.a, s, 1), b: shiftRight(p.b, s, 0) });

/**
 * A pair with its leading axes merged: (..., l) → (rows, l). The scans work on these, so that
 * every slice is of a rank-2 or rank-3 tensor (backends copy higher ranks element by element).
 */
const asRows = (p: ScanPair): ScanPair => ({ a: tf.reshape(p.a, [-1, lastDim(p.a)]), b: tf.reshape(p.b, [-1, lastDim(p.b)]) });

/** Pads a pair at the end with identity steps (1, 0): they leave every h before them unchanged. */
const padPair = (p: ScanPair, extra: number): ScanPair => ({ a: padLast(p.a, 0, extra, 1), b: padLast(p.b, 0, extra, 0) });

/**
 * Starting from h0 instead of 0 is the same as adding a_0·h0 to b_0: from then on the recurrence
 * runs from zero. Every scan here handles h0 this way. h0: (...), b: (..., l).
 */
export function foldInitialState(a: tf.Tensor, b: tf.Tensor, h0?: tf.Tensor): tf.Tensor {
  if (!h0) return b;
  return tf.tidy(() => {
    const first = tf.mul(sliceLast(a, 0, 1), tf.expandDims(h0, -1)); // a_0·h0: (..., 1)
    return tf.add(b, padLast(first, 0, lastDim(b) - 1, 0));
  });
}

// ---- The loop ------------------------------------------------------------------------------------

/**
 * h_t = a_t·h_{t−1} + b_t one step at a time, with tf ops (so autodiff can differentiate it): the
 * reference every other scan is checked against. l steps, each waiting for the one before.
 * a, b: (..., l) → h: (..., l).
 */
export function linearScanSequential(a: tf.Tensor, b: tf.Tensor, h0?: tf.Tensor): tf.Tensor {
  checkScanInputs("linearScanSequential", a, b, h0);
  return tf.tidy(() => {
    const as = unstackTime(a),
      bs = unstackTime(b); // l × (...)
    let h = h0 ?? tf.zeros(leadingShape(a)); // (...)
    const hs: tf.Tensor[] = [];
    for (let t = 0; t < as.length; t++) {
      h = tf.add(tf.mul(as[t], h), bs[t]);
      hs.push(h);
    }
    return stackTime(hs); // (..., l)
  });
}

// ---- Hillis–Steele: doubling -----------------------------------------------------------------------

/**
 * Inclusive scan of pairs by doubling: after the round with shift s, position t holds the
 * combination of the 2s steps ending at t (fewer near the start). ⌈log₂ l⌉ rounds, each a few
 * whole-tensor ops; l·log₂ l work in all. p: (..., l), fastest as (rows, l) or (rows, chunks, l).
 * Returns (Π_{k≤t} a_k, h_t), each (..., l).
 */
export function scanPairsHillisSteele(p: ScanPair): ScanPair {
  let cur = p;
  for (let s = 1; s < lastDim(p.a); s *= 2) {
    const next = tf.tidy(() => combine(shiftPair(cur, s), cur));
    release(cur, p); // keep only the current round: at Mamba sizes each tensor is tens of MB
    cur = next;
  }
  return cur === p ? { a: tf.clone(p.a), b: tf.clone(p.b) } : cur;
}

/** h_t by the doubling (Hillis–Steele) scan: a, b: (..., l) → h: (..., l). */
export function linearScanHillisSteele(a: tf.Tensor, b: tf.Tensor, h0?: tf.Tensor): tf.Tensor {
  checkScanInputs("linearScanHillisSteele", a, b, h0);
  return tf.tidy(() => tf.reshape(scanPairsHillisSteele(asRows({ a, b: foldInitialState(a, b, h0) })).b, a.shape));
}

// ---- Blelloch: up-sweep and down-sweep over a tree ----------------------------------------------------

/**
 * Inclusive scan of pairs over a balanced binary tree (the tree of Blelloch's work-efficient scan,
 * with each tree level held as one tensor instead of updated in place):
 *
 *   up-sweep:   level k+1 = level k's neighbours combined, (x_0 ⊕ x_1, x_2 ⊕ x_3, …): half as long;
 *               the top level is one pair, the whole sequence.
 *   down-sweep: from the top down, the scan of level k from the scan S of level k+1: the odd
 *               positions 2j+1 end pair j, so they are S_j; the even positions 2j are S_{j−1} ⊕ x_2j.
 *
 * (The classic in-place form passes exclusive prefixes down, starting from the identity at the
 * root; with whole levels as tensors the inclusive form above needs no extra step at the end.)
 *
 * About 2l combines in all (against l·log₂ l for doubling), in 2·log₂ l rounds. The length is
 * padded to a power of two with identity steps and cut back at the end. p: (..., l), fastest as
 * (rows, l). Returns (Π_{k≤t} a_k, h_t), each (..., l).
 */
export function scanPairsBlelloch(p: ScanPair): ScanPair {
  const l = lastDim(p.a);
  const L = 2 ** Math.ceil(Math.log2(l));
  let level: ScanPair = tf.tidy(() => padPair(p, L - l)); // level 0: (..., L)
  // Up-sweep: combine neighbours, level by level. The down-sweep needs only the even entries of
  // each level, so those are what is kept.
  const evensOfLevels: ScanPair[] = [];
  while (lastDim(level.a) > 1) {
    const below = level;
    const { up, evens } = tf.tidy(() => {
      const [aEven, aOdd] = evensAndOdds(below.a),
        [bEven, bOdd] = evensAndOdds(below.b);
      const evens = { a: aEven, b: bEven };
      return { up: combine(evens, { a: aOdd, b: bOdd }), evens }; // (..., m / 2) each
    });
    release(below, p); // level 0 may be the caller's own tensors
    evensOfLevels.push(evens);
    level = up;
  }
  // Down-sweep: the top level (one pair) is its own scan S; from the scan of level k + 1, the
  // odd entries of level k are S_j and the even ones S_{j−1} ⊕ x_2j.
  let scanned = level;
  for (let k = evensOfLevels.length - 1; k >= 0; k--) {
    const evens = evensOfLevels[k]; // (..., m); scanned: (..., m)
    const next = tf.tidy(() => {
      const even = combine(shiftPair(scanned, 1), evens); // S_{j−1} ⊕ x_2j
      return { a: interleave(even.a, scanned.a), b: interleave(even.b, scanned.b) }; // (..., 2m)
    });
    release(scanned, p);
    tf.dispose([evens.a, evens.b]);
    scanned = next;
  }
  const out = tf.tidy(() => ({ a: sliceLast(scanned.a, 0, l), b: sliceLast(scanned.b, 0, l) }));
  release(scanned, p);
  return out;
}

/** h_t by the tree (Blelloch) scan: a, b: (..., l) → h: (..., l). Any l. */
export function linearScanBlelloch(a: tf.Tensor, b: tf.Tensor, h0?: tf.Tensor): tf.Tensor {
  checkScanInputs("linearScanBlelloch", a, b, h0);
  return tf.tidy(() => tf.reshape(scanPairsBlelloch(asRows({ a, b: foldInitialState(a, b, h0) })).b, a.shape));
}

// ---- Chunked: scan inside chunks, scan the carries, fix up ---------------------------------------------

/**
 * h_t by chunks of `chunk` steps, the three stages of the blocked cumsum with pairs:
 *   1. scan inside every chunk from a zero state, all chunks at once (doubling scan): the local
 *      state and the running product P_t of the a's since the chunk began;
 *   2. scan the chunk totals (the last entry of each chunk) across chunks: the true state at the
 *      end of every chunk, hence the state that enters each chunk;
 *   3. fix up: h_t = local h_t + P_t·(state entering the chunk).
 * a, b: (..., l) → h: (..., l); any l (the last chunk is padded with identity steps).
 */
export function linearScanChunked(a: tf.Tensor, b: tf.Tensor, chunk: number, h0?: tf.Tensor): tf.Tensor {
  checkScanInputs("linearScanChunked", a, b, h0);
  checkSize("linearScanChunked", "chunk", chunk);
  return tf.tidy(() => {
    const l = lastDim(a),
      nChunks = Math.ceil(l / chunk);
    const padded = padPair(asRows({ a, b: foldInitialState(a, b, h0) }), nChunks * chunk - l); // (rows, nChunks·chunk)
    const chunks = { a: tf.reshape(padded.a, [-1, nChunks, chunk]), b: tf.reshape(padded.b, [-1, nChunks, chunk]) };
    const local = scanPairsHillisSteele(chunks); // stage 1: (rows, nChunks, chunk)
    const totals = { a: sliceLast(local.a, chunk - 1, 1), b: sliceLast(local.b, chunk - 1, 1) }; // (rows, nChunks, 1)
    const across = { a: tf.reshape(totals.a, [-1, nChunks]), b: tf.reshape(totals.b, [-1, nChunks]) };
    const chunkEnds = scanPairsHillisSteele(across).b; // stage 2: state after each chunk, (rows, nChunks)
    const entering = tf.expandDims(shiftRight(chunkEnds, 1, 0), -1); // state before each chunk, (rows, nChunks, 1)
    const h = tf.add(local.b, tf.mul(local.a, entering)); // stage 3: (rows, nChunks, chunk)
    return tf.reshape(sliceLast(tf.reshape(h, [-1, nChunks * chunk]), 0, l), a.shape);
  });
}

/** h_t by the named method (same arguments as the functions above). */
export function linearScanBy(method: ScanMethod, a: tf.Tensor, b: tf.Tensor, opts: ScanOptions = {}): tf.Tensor {
  switch (method) {
    case "sequential":
      return linearScanSequential(a, b, opts.h0);
    case "hillis-steele":
      return linearScanHillisSteele(a, b, opts.h0);
    case "blelloch":
      return linearScanBlelloch(a, b, opts.h0);
    case "chunked":
      return linearScanChunked(a, b, opts.chunk ?? DEFAULT_CHUNK, opts.h0);
    default:
      throw new Error(`linearScanBy: method must be one of ${SCAN_METHODS.join(", ")}, got ${JSON.stringify(method)}`);
  }
}
