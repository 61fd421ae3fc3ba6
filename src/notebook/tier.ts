/**
 * Size tiers of the notebooks, so that "Run All" costs what the machine can afford:
 * - `quick`: what CI runs, seconds per training run; its numbers only prove the pipeline works.
 * - `cpu`: a laptop CPU; minutes, and a real result.
 * - `gpu`: the anchor's sizes (The Annotated S4, Mamba: The Hard Way).
 *
 * By default the tier follows the backend `chooseBackend` picked: a GPU backend gives `gpu`,
 * anything else `cpu`. `S4_SIZE=quick|cpu|gpu` overrides that, and `S4_QUICK=1` means quick.
 */
import type { BackendChoice, BackendName } from "../backend";

export type SizeTier = "quick" | "cpu" | "gpu";
export const SIZE_TIERS: readonly SizeTier[] = ["quick", "cpu", "gpu"];

/** Backends that run on a GPU. A software WebGPU adapter is never chosen automatically. */
export const GPU_BACKENDS: readonly BackendName[] = ["tensorflow-gpu", "webgpu"];

export interface TierChoice {
  tier: SizeTier;
  /** Why this tier: the variable that set it, or the backend it follows. */
  reason: string;
}

/**
 * The size tier for this run. `env` defaults to process.env; `backend` is the active choice
 * (from chooseBackend or useBackend).
 */
export function sizeTier(backend: Pick<BackendChoice, "name"> | null, env: Record<string, string | undefined> = process.env): TierChoice {
  const forced = env.S4_SIZE;
  if (forced !== undefined && forced !== "") {
    if (!(SIZE_TIERS as readonly string[]).includes(forced)) {
      throw new Error(`S4_SIZE must be one of ${SIZE_TIERS.join(", ")}, got ${JSON.stringify(forced)}`);
    }
    return { tier: forced as SizeTier, reason: `S4_SIZE=${forced}` };
  }
  if (env.S4_QUICK === "1") return { tier: "quick", reason: "S4_QUICK=1" };
  if (!backend) throw new Error("sizeTier: backend must be the active backend choice (call chooseBackend first), got null");
  return GPU_BACKENDS.includes(backend.name)
    ? { tier: "gpu", reason: `the ${backend.name} backend runs on a GPU` }
    : { tier: "cpu", reason: `the ${backend.name} backend runs on the CPU (S4_SIZE=gpu forces the GPU sizes)` };
}

/** Picks the value of the current tier from one value per tier. */
export function byTier<T>(tier: SizeTier, values: Record<SizeTier, T>): T {
  if (!(SIZE_TIERS as readonly string[]).includes(tier))
    throw new Error(`byTier: tier must be one of ${SIZE_TIERS.join(", ")}, got ${JSON.stringify(tier)}`);
  return values[tier];
}

/** One piece of a notebook's cost: a training run (steps at a measured rate, capped by its time limit) or fixed work. */
export interface CostItem {
  what: string;
  /** Measured minutes of work that is not a training run (figures, checks, timings). */
  minutes?: number;
  /** A training run: its steps, the measured seconds per step, and its time limit. */
  steps?: number;
  secondsPerStep?: number;
  timeLimitMinutes?: number;
  /** Minutes of evaluation after training. */
  evalMinutes?: number;
}

/** Expected minutes of one item: steps × s/step, but never more than its time limit, plus evaluation. */
export function itemMinutes(item: CostItem): number {
  let m = item.minutes ?? 0;
  if (item.steps !== undefined && item.secondsPerStep !== undefined) {
    const run = (item.steps * item.secondsPerStep) / 60;
    m += item.timeLimitMinutes !== undefined ? Math.min(run, item.timeLimitMinutes) : run;
  }
  return m + (item.evalMinutes ?? 0);
}

/**
 * The line a notebook's first cell prints: the tier, why, and the expected cost in minutes from
 * the measured rates in `items` (`measuredOn` says where they were measured).
 */
export function describeTier(choice: TierChoice, items: CostItem[], measuredOn: string): string {
  const total = items.reduce((s, it) => s + itemMinutes(it), 0);
  const parts = items.map((it) => `${it.what} ≈ ${fmtMinutes(itemMinutes(it))}`).join(", ");
  const capped = items.some((it) => it.timeLimitMinutes !== undefined) ? " Every training run stops at its time limit." : "";
  return `Size tier: ${choice.tier} (${choice.reason}). Expected cost ≈ ${fmtMinutes(total)} (${parts}), from rates measured on ${measuredOn}.${capped}`;
}

function fmtMinutes(m: number): string {
  return m < 1 ? `${Math.max(1, Math.round(m * 60))} s` : `${m < 10 ? m.toFixed(1) : Math.round(m)} min`;
}
