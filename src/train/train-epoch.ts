/**
 * One epoch of training: the epoch's seeded batch order, one optimizer step per batch (trainStep),
 * the steps' loss and accuracy read back once per logging interval, and a stop after any step
 * once the sitting's time limit has passed. A sitting that stopped inside the epoch continues it
 * at its next batch.
 */
import * as tf from "@tensorflow/tfjs";
import { batchIndices, Task } from "../data";
import { DeviceLog } from "./device-log";
import type { SplitMetrics } from "./run-folder";
import type { RunState } from "./run-state";
import type { SittingClock } from "./sitting-clock";
import { StepTensors, trainStep } from "./step";
import type { ResolvedOptions } from "./train-options";

export interface StepInfo {
  epoch: number;
  /** Step within the epoch, 1-based, and the number of steps in the epoch. */
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Global step count after this step. */
  step: number;
  loss: number;
  accuracy: number;
  lr: number;
  /** The global gradient norm before clipping (only when clipNorm is set). */
  gradNorm?: number;
}

/** What an epoch's training gives the loop. */
export interface EpochTraining {
  /** Means over the batches trained in this sitting (NaN when none was). */
  train: SplitMetrics;
  /** The learning rate of the last step (0 when none was taken). */
  lr: number;
  /** Batches of the epoch done by the end of this sitting, and how many it has. */
  batchesDone: number;
  batches: number;
  /** True when the time limit stopped the epoch before its last batch. */
  partial: boolean;
}

/**
 * The wasm backend's heap is at most 4 GiB; running out of it aborts the wasm module with a bare
 * "Aborted()". Says what happened and what to change instead.
 */
function explainOutOfMemory(e: unknown, cfg: ResolvedOptions): unknown {
  if (tf.getBackend() !== "wasm" || !/Aborted\(|out of memory|Cannot enlarge memory|memory access out of bounds/i.test(String(e))) return e;
  const fix = cfg.recompute ? "lower bsz or dModel" : "set recompute (--recompute), or lower bsz or dModel";
  return new Error(
    `train: the wasm backend ran out of memory (its heap holds at most 4 GiB) in a training step with bsz ${cfg.bsz}, dModel ${cfg.dModel}, nLayers ${cfg.nLayers}, layer ${cfg.layer}; ${fix}. (wasm said: ${String(e)})`,
  );
}

/**
 * Trains epoch `st.epoch` from batch `st.batchInEpoch` (then reset to 0), advancing `st.step`.
 * `lrAt(step)` is the schedule's rate for a global step; `onStep` sees every step once its values
 * are read back. Throws when the loss stops being finite.
 */
export async function trainEpoch(
  st: RunState,
  task: Task,
  cfg: ResolvedOptions,
  lrAt: (step: number) => number,
  clock: SittingClock,
  onStep?: (info: StepInfo) => void,
): Promise<EpochTraining> {
  const batches = batchIndices(task.n, cfg.bsz, { shuffle: true, seed: cfg.seed, epoch: st.epoch });
  let lossSum = 0;
  let accSum = 0;
  let seen = 0;
  let lr = 0;
  // Per-step values stay on the device and are read once per logging interval.
  const log = new DeviceLog();
  let logLr: number[] = [];
  const flush = async (stepInEpoch: number) => {
    const first = st.step - log.length;
    const { values, weights } = await log.read();
    values.forEach(([loss, acc, gradNorm], k) => {
      if (!Number.isFinite(loss))
        throw new Error(
          `train: the loss became ${loss} at step ${first + k} (epoch ${st.epoch}); try a smaller lr (now ${cfg.lr}) or a clipNorm`,
        );
      lossSum += loss * weights[k];
      accSum += acc * weights[k];
      seen += weights[k];
      onStep?.({
        epoch: st.epoch,
        stepInEpoch: stepInEpoch - values.length + k + 1,
        stepsPerEpoch: batches.length,
        step: first + k + 1,
        loss,
        accuracy: acc,
        lr: logLr[k],
        ...(gradNorm !== undefined ? { gradNorm } : {}),
      });
    });
    logLr = [];
  };
  // A sitting that stopped inside this epoch left where: continue from the next batch.
  let done = st.batchInEpoch;
  st.batchInEpoch = 0;
  try {
    for (let i = done; i < batches.length && !clock.outOfTime; i++) {
      lr = lrAt(st.step);
      const batch = task.makeBatch(batches[i]);
      let out: StepTensors;
      try {
        out = trainStep(st.model, st.optimizer, batch, task.numClasses, st.step, lr, { recompute: cfg.recompute });
      } catch (e) {
        throw explainOutOfMemory(e, cfg);
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
      st.step++;
      log.push([out.loss, out.accuracy, ...(out.gradNorm ? [out.gradNorm] : [])], batches[i].length);
      logLr.push(lr);
      const outOfTime = clock.checkLimit();
      if (log.length >= cfg.logEvery || i === batches.length - 1 || outOfTime) await flush(i + 1);
      done = i + 1;
    }
  } finally {
    log.dispose();
  }
  return {
    train: { loss: lossSum / seen, accuracy: accSum / seen },
    lr,
    batchesDone: done,
    batches: batches.length,
    partial: done < batches.length,
  };
}
