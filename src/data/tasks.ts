/**
 * The two MNIST tasks of The Annotated S4, each a sequence of 784 pixels in raster order:
 * - "mnist": next-pixel modeling; inputs are pixel values 0–255 used as tokens, targets are the
 *   same pixels (the model shifts its input right by one itself), with 256 classes per step.
 * - "mnist-classification": sequential MNIST; inputs are pixels normalized to [−1, 1] as one
 *   real channel, targets are the digit labels (10 classes).
 */
import * as tf from "@tensorflow/tfjs";
import { loadMnist, MnistData, MnistSplit } from "./mnist";

export type TaskName = "mnist" | "mnist-classification";

/** "tokens": int32 (b, L) integer inputs; "real": float32 (b, L, 1) real-valued inputs. */
export type TaskInputKind = "tokens" | "real";

export interface TaskBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

export interface Task {
  name: TaskName;
  split: MnistSplit;
  /** Number of examples available. */
  n: number;
  seqLen: 784;
  inputKind: TaskInputKind;
  numClasses: number;
  /** Builds the batch of the examples at `indices`; the caller owns (and disposes) x and y. */
  makeBatch(indices: readonly number[]): TaskBatch;
}

export interface MakeTaskOptions {
  /** Keep only the first `limit` examples. */
  limit?: number;
  /** Folder of the MNIST IDX files (see loadMnist). */
  dir?: string;
}

export const TASK_NAMES: readonly TaskName[] = ["mnist", "mnist-classification"];

const SEQ_LEN = 784;

/** Converts a mean negative log-likelihood per pixel in nats to bits per dimension. */
export function nllToBitsPerDim(nllNats: number): number {
  return nllNats / Math.LN2;
}

/** Pixel normalization of the walkthrough: (p/255 − 0.5)/0.5, so 0 → −1 and 255 → 1. */
export function normalizePixel(p: number): number {
  return (p / 255 - 0.5) / 0.5;
}

const NORMALIZED = Float32Array.from({ length: 256 }, (_, p) => normalizePixel(p));

function checkIndices(task: string, indices: readonly number[], n: number): void {
  if (!Array.isArray(indices) || indices.length === 0) {
    throw new Error(`${task}.makeBatch: indices must be a non-empty array, got ${Array.isArray(indices) ? "[]" : typeof indices}`);
  }
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= n) {
      throw new Error(`${task}.makeBatch: indices[${i}] is ${k}; expected an integer in [0, ${n - 1}]`);
    }
  }
}

function sequenceTask(data: MnistData, split: MnistSplit): Task {
  return {
    name: "mnist",
    split,
    n: data.n,
    seqLen: SEQ_LEN,
    inputKind: "tokens",
    numClasses: 256,
    makeBatch(indices) {
      checkIndices("mnist", indices, data.n);
      const b = indices.length;
      const xs = new Int32Array(b * SEQ_LEN);
      for (let i = 0; i < b; i++) {
        xs.set(data.images.subarray(indices[i] * SEQ_LEN, (indices[i] + 1) * SEQ_LEN), i * SEQ_LEN);
      }
      return { x: tf.tensor2d(xs, [b, SEQ_LEN], "int32"), y: tf.tensor2d(xs.slice(), [b, SEQ_LEN], "int32") };
    },
  };
}

function classificationTask(data: MnistData, split: MnistSplit): Task {
  return {
    name: "mnist-classification",
    split,
    n: data.n,
    seqLen: SEQ_LEN,
    inputKind: "real",
    numClasses: 10,
    makeBatch(indices) {
      checkIndices("mnist-classification", indices, data.n);
      const b = indices.length;
      const xs = new Float32Array(b * SEQ_LEN);
      const ys = new Int32Array(b);
      for (let i = 0; i < b; i++) {
        const off = indices[i] * SEQ_LEN;
        for (let t = 0; t < SEQ_LEN; t++) xs[i * SEQ_LEN + t] = NORMALIZED[data.images[off + t]];
        ys[i] = data.labels[indices[i]];
      }
      return { x: tf.tensor3d(xs, [b, SEQ_LEN, 1], "float32"), y: tf.tensor1d(ys, "int32") };
    },
  };
}

/** Creates one of the MNIST tasks on a split. */
export function makeTask(name: TaskName, split: MnistSplit, opts: MakeTaskOptions = {}): Task {
  if (!TASK_NAMES.includes(name)) {
    throw new Error(`makeTask: unknown task ${JSON.stringify(name)}; expected one of ${TASK_NAMES.map((t) => JSON.stringify(t)).join(", ")}`);
  }
  const data = loadMnist(split, opts);
  return name === "mnist" ? sequenceTask(data, split) : classificationTask(data, split);
}
