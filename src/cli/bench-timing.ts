/**
 * Timing for `npm run bench`: one forward, or one forward + backward, read back to the host so
 * that asynchronous (GPU) work is included, and the median over an adaptive number of runs.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { registeredKernelNames } from "../kernels/registry";
import { median } from "../notebook/timing";
import { Fn } from "./bench-cases";
export { textTable } from "../notebook/table";

export interface Plan {
  /** Warm-up runs before timing (fewer when one run is already slow). */
  warmup: number;
  /** Time to spend on the timed runs of one measurement, ms. */
  budgetMs: number;
  maxReps: number;
  /** A first run this slow is taken as the only sample (its one-time costs are then negligible). */
  singleRunMs: number;
}

export interface Timing {
  ms: number;
  reps: number;
}

/** Plans for small and large cases, normal and --quick. */
export function planFor(quick: boolean, large: boolean): Plan {
  if (large) return quick ? { warmup: 0, budgetMs: 0, maxReps: 1, singleRunMs: 0 } : { warmup: 1, budgetMs: 6000, maxReps: 3, singleRunMs: 3000 };
  return quick ? { warmup: 1, budgetMs: 300, maxReps: 5, singleRunMs: 1000 } : { warmup: 2, budgetMs: 1500, maxReps: 20, singleRunMs: 2500 };
}


/** Median of `run` (which returns its own duration in ms) over an adaptive number of repetitions. */
export async function measure(run: () => Promise<number>, plan: Plan): Promise<Timing> {
  let last = await run();
  if (last >= plan.singleRunMs) return { ms: last, reps: 1 };
  for (let i = 1; i < plan.warmup && last < plan.budgetMs; i++) last = await run();
  const reps = Math.max(1, Math.min(plan.maxReps, Math.floor(plan.budgetMs / Math.max(last, 1e-3))));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  return { ms: median(times), reps };
}

/** One forward pass, read back. */
export async function forwardOnce(f: Fn, inputs: tf.Tensor[]): Promise<number> {
  const t0 = performance.now();
  const y = tf.tidy(() => f(...inputs));
  await y.data();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
}

/** The gradients of Σ y·r with respect to every input (forward included), all read back. */
export async function forwardBackwardOnce(f: Fn, inputs: tf.Tensor[], r: tf.Tensor): Promise<number> {
  const t0 = performance.now();
  // Seeding the backward pass with dy = r gives the gradients of Σ y·r without loss ops to time
  // (the cpu backend's broadcasting ops would cost more than some kernels).
  const grads = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs, r));
  await Promise.all(grads.map((g) => g.data()));
  const ms = performance.now() - t0;
  tf.dispose(grads);
  return ms;
}

/**
 * Switches off every hand-written kernel on the active backend, so that the ops take their
 * plain-tf-ops paths from now on (the process measuring a reference does nothing else).
 */
export function disableKernels(): void {
  const backend = tf.getBackend();
  for (const name of registeredKernelNames()) {
    if (tf.getKernel(name, backend)) tf.unregisterKernel(name, backend);
  }
}

/** Writes JSON through a temporary file and a rename, so a reader never sees half a file. */
export function writeJsonAtomic(file: string, data: unknown): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n");
  renameSync(tmp, file);
}
