/**
 * Timing in notebooks and benchmarks: the median of warm runs. One warm-up run first (it compiles
 * shaders and fills caches), then at least `minRuns` timed runs; cheap cases keep going until
 * `budgetMs` is spent, up to `maxRuns`.
 */
import * as tf from "@tensorflow/tfjs";

export interface TimingOptions {
  /** Least number of timed runs (default 3). */
  minRuns?: number;
  /** Keep timing cheap cases until this many ms are spent (default 250). */
  budgetMs?: number;
  /** Most timed runs (default 25). */
  maxRuns?: number;
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median: xs must not be empty");
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function medianOf(once: () => Promise<number>, opts: TimingOptions): Promise<number> {
  const minRuns = opts.minRuns ?? 3;
  const budget = opts.budgetMs ?? 250;
  const maxRuns = Math.max(minRuns, opts.maxRuns ?? 25);
  await once();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < budget && times.length < maxRuns)) times.push(await once());
  return median(times);
}

/** Median ms of `f` run inside tf.tidy with its result read back (so GPU work is included). */
export async function timeMs(f: () => tf.Tensor | tf.Tensor[], opts: TimingOptions = {}): Promise<number> {
  return medianOf(async () => {
    const t0 = performance.now();
    const y = tf.tidy(f);
    const ys = Array.isArray(y) ? y : [y];
    await Promise.all(ys.map((t) => t.data()));
    const ms = performance.now() - t0;
    tf.dispose(ys);
    return ms;
  }, opts);
}

/** Median ms of plain host code. */
export async function timeHostMs(f: () => unknown, opts: TimingOptions = {}): Promise<number> {
  return medianOf(async () => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  }, opts);
}

/** Milliseconds for a table: two decimals under 10 ms, whole numbers above; "—" for not measured. */
export function fmtMs(ms: number | null): string {
  return ms === null ? "—" : ms < 10 ? ms.toFixed(2) : ms.toFixed(0);
}
