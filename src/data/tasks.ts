/**
 * The two MNIST tasks of The Annotated S4, each a sequence of 784 pixels in raster order:
 * - "mnist": next-pixel modeling; inputs are pixel values 0–255 used as tokens, targets are the
 *   same pixels (the model shifts its input right by one itself), with 256 classes per step.
 * - "mnist-classification": sequential MNIST; inputs are pixels normalized to [−1, 1] as one
 *   real channel, targets are the digit labels (10 classes).
 */
import * as tf from "@tensorflow/tfjs";
import { loadMnist, MnistData } from "./mnist";

/**
 * The splits a task is made on. MNIST ships "train" (60 000 images) and "test" (10 000); the last
 * VALIDATION_SIZE training images are held out as "validation", to choose checkpoints on, so that
 * "train" here means the first 55 000 and the test split is evaluated only once, at the end.
 */
export type TaskSplit = "train" | "validation" | "test";
export const TASK_SPLITS: readonly TaskSplit[] = ["train", "validation", "test"];
export const VALIDATION_SIZE = 5000;

export type TaskName = "mnist" | "mnist-classification";

/** "tokens": int32 (b, L) integer inputs; "real": float32 (b, L, 1) real-valued inputs. */
export type TaskInputKind = "tokens" | "real";

export interface TaskBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

export interface Task {
  name: TaskName;
  split: TaskSplit;
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

/** What sets one MNIST task apart: its inputs, its classes, and how a batch is built. */
interface TaskKind {
  inputKind: TaskInputKind;
  numClasses: number;
  /** The batch of the examples at `indices` (already checked). */
  batchOf(data: MnistData, indices: readonly number[]): TaskBatch;
}

const TASK_KINDS: Record<TaskName, TaskKind> = {
  mnist: {
    inputKind: "tokens",
    numClasses: 256,
    batchOf(data, indices) {
      const b = indices.length;
      const xs = new Int32Array(b * SEQ_LEN);
      for (let i = 0; i < b; i++) {
        xs.set(data.images.subarray(indices[i] * SEQ_LEN, (indices[i] + 1) * SEQ_LEN), i * SEQ_LEN);
      }
      return { x: tf.tensor2d(xs, [b, SEQ_LEN], "int32"), y: tf.tensor2d(xs.slice(), [b, SEQ_LEN], "int32") };
    },
  },
  "mnist-classification": {
    inputKind: "real",
    numClasses: 10,
    batchOf(data, indices) {
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
  },
};

/** The task `name` on the examples `data` of `split`. */
function taskOn(name: TaskName, data: MnistData, split: TaskSplit): Task {
  const kind = TASK_KINDS[name];
  return {
    name,
    split,
    n: data.n,
    seqLen: SEQ_LEN,
    inputKind: kind.inputKind,
    numClasses: kind.numClasses,
    makeBatch(indices) {
      checkIndices(name, indices, data.n);
      return kind.batchOf(data, indices);
    },
  };
}

/** The examples of a split: a view into the cached MNIST file, limited to the first `limit`. */
function splitData(split: TaskSplit, opts: MakeTaskOptions): MnistData {
  if (!TASK_SPLITS.includes(split)) {
    throw new Error(`makeTask: split must be one of ${TASK_SPLITS.map((s) => JSON.stringify(s)).join(", ")}, got ${JSON.stringify(split)}`);
  }
  const { limit } = opts;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`makeTask: opts.limit must be a positive integer, got ${limit}`);
  }
  const full = loadMnist(split === "test" ? "test" : "train", { dir: opts.dir });
  const trainSize = full.n - VALIDATION_SIZE;
  const [start, end] = split === "test" ? [0, full.n] : split === "train" ? [0, trainSize] : [trainSize, full.n];
  const n = Math.min(end - start, limit ?? Infinity);
  return {
    images: full.images.subarray(start * SEQ_LEN, (start + n) * SEQ_LEN),
    labels: full.labels.subarray(start, start + n),
    n,
    rows: full.rows,
    cols: full.cols,
  };
}

/**
 * Creates one of the MNIST tasks on a split: "train" (the first 55 000 training images),
 * "validation" (the last 5 000) or "test".
 */
export function makeTask(name: TaskName, split: TaskSplit, opts: MakeTaskOptions = {}): Task {
  if (!TASK_NAMES.includes(name)) {
    throw new Error(
      `makeTask: unknown task ${JSON.stringify(name)}; expected one of ${TASK_NAMES.map((t) => JSON.stringify(t)).join(", ")}`,
    );
  }
  const data = splitData(split, opts);
  return taskOn(name, data, split);
}
