/**
 * Learning-rate schedules: functions from the 0-based step index to a learning rate.
 */

/** A learning-rate schedule: step index (0-based) → learning rate. */
export type LrSchedule = (step: number) => number;

export interface OneCycleOptions {
  /** Peak learning rate, reached at the end of the warm-up. */
  maxLr: number;
  /** Number of optimizer steps in the whole run; valid step indices are 0 … totalSteps − 1. */
  totalSteps: number;
  /**
   * Fraction of totalSteps spent warming up, in [0, 1). Default 0.1 (PyTorch's OneCycleLR uses
   * 0.3). The peak is at step warmupFraction·totalSteps − 1, as in PyTorch; when that is ≤ 0
   * there is no warm-up and the schedule starts at maxLr.
   */
  warmupFraction?: number;
  /** Starting rate is maxLr / startDiv. Default 25. */
  startDiv?: number;
  /** Final rate is maxLr / (startDiv · endDiv). Default 1e4. */
  endDiv?: number;
  /** Shape of the warm-up: "cos" (PyTorch's anneal_strategy "cos", the default) or "linear". */
  warmup?: "cos" | "linear";
}

function cosineInterp(from: number, to: number, frac: number): number {
  return to + ((from - to) / 2) * (1 + Math.cos(Math.PI * frac));
}

/**
 * One-cycle schedule like PyTorch's OneCycleLR with anneal_strategy "cos" (no momentum
 * cycling): warm-up from maxLr/startDiv to maxLr, then a cosine decay to
 * maxLr/(startDiv·endDiv) at step totalSteps − 1. Steps outside [0, totalSteps − 1] throw.
 */
export function oneCycleCosine(opts: OneCycleOptions): LrSchedule {
  if (!opts || typeof opts !== "object") throw new Error(`oneCycleCosine options must be an object, got ${opts}`);
  const { maxLr, totalSteps, warmupFraction = 0.1, startDiv = 25, endDiv = 1e4, warmup = "cos" } = opts;
  if (!(typeof maxLr === "number" && Number.isFinite(maxLr) && maxLr > 0)) {
    throw new Error(`maxLr must be a finite number > 0, got ${maxLr}`);
  }
  if (!(Number.isInteger(totalSteps) && totalSteps >= 2)) {
    throw new Error(`totalSteps must be an integer >= 2, got ${totalSteps}`);
  }
  if (!(Number.isFinite(warmupFraction) && warmupFraction >= 0 && warmupFraction < 1)) {
    throw new Error(`warmupFraction must be a number in [0, 1), got ${warmupFraction}`);
  }
  if (!(Number.isFinite(startDiv) && startDiv >= 1)) throw new Error(`startDiv must be a finite number >= 1, got ${startDiv}`);
  if (!(Number.isFinite(endDiv) && endDiv >= 1)) throw new Error(`endDiv must be a finite number >= 1, got ${endDiv}`);
  if (warmup !== "cos" && warmup !== "linear") throw new Error(`warmup must be "cos" or "linear", got ${JSON.stringify(warmup)}`);

  const initialLr = maxLr / startDiv;
  const finalLr = initialLr / endDiv;
  const last = totalSteps - 1;
  const peak = warmupFraction * totalSteps - 1;
  const hasWarmup = peak > 0;
  const decayStart = hasWarmup ? Math.min(peak, last) : 0;

  return (step: number): number => {
    if (!(Number.isInteger(step) && step >= 0 && step <= last)) {
      throw new Error(`step must be an integer in [0, ${last}] (totalSteps ${totalSteps}), got ${step}`);
    }
    if (hasWarmup && step <= peak) {
      const frac = step / peak;
      return warmup === "cos" ? cosineInterp(initialLr, maxLr, frac) : initialLr + (maxLr - initialLr) * frac;
    }
    if (last === decayStart) return finalLr;
    return cosineInterp(maxLr, finalLr, (step - decayStart) / (last - decayStart));
  };
}

/** A schedule that returns `lr` at every step. */
export function constantLr(lr: number): LrSchedule {
  if (!(typeof lr === "number" && Number.isFinite(lr) && lr >= 0)) {
    throw new Error(`lr must be a finite number >= 0, got ${lr}`);
  }
  return (step: number): number => {
    if (!(Number.isInteger(step) && step >= 0)) throw new Error(`step must be an integer >= 0, got ${step}`);
    return lr;
  };
}
