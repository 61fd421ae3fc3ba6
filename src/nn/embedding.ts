/** The token encoder: a learned table of vectors, one per id. */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg } from "../checks";
import { seededNormal, subSeed } from "../random";
import { matMul2d } from "./linear";
import { Module } from "./module";
import { formatShape } from "../shape-format";

/**
 * Backends whose tensors live in host memory (or behind a cheap synchronous read): there the ids
 * are read and checked on every call. WebGPU and WebGL cannot read synchronously in every setting
 * (WebGPU in Node cannot at all), so there the ids are not read: a caller on those backends
 * checks the ids where it makes them.
 */
const SYNC_READ_BACKENDS: readonly string[] = ["cpu", "wasm", "tensorflow"];

/**
 * Throws unless every entry of `ids` is an integer in [0, vocab), naming the argument, the
 * expected range and the first bad value. A no-op on backends without a cheap synchronous read.
 */
export function checkTokenIds(fn: string, name: string, ids: tf.Tensor, vocab: number): void {
  if (!(ids instanceof tf.Tensor)) throw new Error(`${fn}: ${name} must be a tensor of integer ids in [0, ${vocab}), got ${String(ids)}`);
  if (ids.dtype !== "int32" && ids.dtype !== "float32") {
    throw new Error(`${fn}: ${name} must be int32 or float32 ids in [0, ${vocab}), got dtype ${ids.dtype}`);
  }
  if (!SYNC_READ_BACKENDS.includes(tf.getBackend())) return;
  const values = ids.dataSync() as Int32Array | Float32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // One comparison chain for the common case; the integer test only matters for float ids.
    if (!(v >= 0 && v < vocab && Number.isInteger(v))) {
      throw new Error(`${fn}: ${name} must be integers in [0, ${vocab}), got ${v} at flat index ${i} (shape ${formatShape(ids.shape)})`);
    }
  }
}

/**
 * A lookup table for integer tokens in [0, vocab): (...) → (..., h). Written as a one-hot matmul,
 * whose gradient needs no scatter (wasm has no UnsortedSegmentSum). Ids outside [0, vocab) or not
 * integers are an error (a one-hot of such an id would be a silent zero row).
 */
export class Embedding extends Module {
  readonly table: tf.Variable; // (vocab, h)
  constructor(
    readonly vocab: number,
    readonly h: number,
    seed = 0,
  ) {
    super();
    checkIntArg("Embedding", "vocab", vocab);
    checkIntArg("Embedding", "h", h);
    this.table = this.addParam("table", seededNormal(vocab * h, subSeed(seed, "table")), [vocab, h]);
  }
  /** tokens (...) → (..., h). */
  forward(tokens: tf.Tensor): tf.Tensor {
    checkTokenIds("Embedding.forward", "tokens", tokens, this.vocab);
    return tf.tidy(() => {
      const oneHot = tf.oneHot(tf.reshape(tf.cast(tokens, "int32"), [-1]), this.vocab); // (n, vocab)
      return tf.reshape(matMul2d(tf.cast(oneHot, "float32") as tf.Tensor2D, this.table as tf.Tensor2D), [...tokens.shape, this.h]);
    });
  }
}
