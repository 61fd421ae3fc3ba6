/**
 * Timing for `npm run bench` and `npm run bench-scans`: one forward, or one forward + backward,
 * read back to the host so that asynchronous (GPU) work is included, and the median of at least
 * MIN_WARM_RUNS warm runs; a case too slow for that is timed by a single run instead.
 */
import * as tf from "@tensorflow/tfjs";
import { registeredKernelNames } from "../kernels/registry";
import { median } from "../notebook/timing";
import { Fn } from "./bench-cases";
export { textTable } from "../notebook/table";
export { writeJsonAtomic } from "../atomic-write";

/** Timed runs behind every median (after at least one warm-up run). */
export const MIN_WARM_RUNS = 3;

export interface Plan {
  /** Warm-up runs before timing, the first run included (fewer when one run is already slow). */
  warmup: number;
  /** Time to spend on the timed runs of one measurement, ms (MIN_WARM_RUNS runs at least). */
  budgetMs: number;
  maxReps: number;
  /**
   * A first run this slow is the only sample: warm-up and MIN_WARM_RUNS more would not fit in the
   * measurement's time limit. That single run is cold (it includes one-time costs).
   */
  singleRunMs: number;
}

export interface Timing {
  ms: number;
  /** Warm runs behind the median (at least MIN_WARM_RUNS), or 1 for a single run. */
  reps: number;
}

/** How the table and the JSON name a time that comes from one run rather than a median. */
export const SINGLE_RUN = "single run";

export const isSingleRun = (t: Timing): boolean => t.reps === 1;

/** Plans for small and large cases, normal and --quick. */
export function planFor(quick: boolean, large: boolean): Plan {
  if (large) {
    return quick ? { warmup: 1, budgetMs: 0, maxReps: 3, singleRunMs: 1000 } : { warmup: 1, budgetMs: 6000, maxReps: 5, singleRunMs: 5000 };
  }
  return quick
    ? { warmup: 1, budgetMs: 300, maxReps: 5, singleRunMs: 1000 }
    : { warmup: 2, budgetMs: 1500, maxReps: 20, singleRunMs: 2500 };
}

/**
 * Median of `run` (which returns its own duration in ms) over MIN_WARM_RUNS or more warm runs, as
 * many as fit in the plan's budget; or the first run alone when it is slower than singleRunMs.
 */
export async function measure(run: () => Promise<number>, plan: Plan): Promise<Timing> {
  let last = await run();
  if (last >= plan.singleRunMs) return { ms: last, reps: 1 };
  for (let i = 1; i < plan.warmup && last < plan.budgetMs; i++) last = await run();
  const fit = Math.floor(plan.budgetMs / Math.max(last, 1e-3));
  const reps = Math.max(MIN_WARM_RUNS, Math.min(plan.maxReps, fit));
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  return { ms: median(times), reps };
}

/** A plan in words, for the notes under the tables. */
export function describePlan(p: Plan): string {
  const warmup = p.warmup === 1 ? "1 warm-up run" : `up to ${p.warmup} warm-up runs`;
  const runs = p.maxReps > MIN_WARM_RUNS ? `${MIN_WARM_RUNS}–${p.maxReps}` : `${MIN_WARM_RUNS}`;
  const budget = p.budgetMs > 0 ? ` (as many as fit in ${p.budgetMs / 1000} s)` : "";
  return (
    `${warmup}, then the median of ${runs} warm runs${budget};` +
    ` ${SINGLE_RUN} when the first run takes ${p.singleRunMs / 1000} s or more`
  );
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
