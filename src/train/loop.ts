/**
 * The training loop for the MNIST tasks: seeded batches, AdamW with a one-cycle cosine rate, an
 * evaluation on the validation split (the last 5 000 training images) after every epoch,
 * checkpoints (`last` every epoch, `best` when the validation metric improves), one metrics line
 * per epoch, and at the end a single evaluation of the test split on the `best` checkpoint and a
 * summary with the run's record (commit, backend, device, dates).
 *
 * Its parts, one a file: the options (train-options.ts), where a run starts, fresh or resumed
 * (run-state.ts), an epoch of steps (train-epoch.ts), evaluation (evaluate.ts), the run folder and
 * the choice of `best` (run-folder.ts), the summary (train-summary.ts), the sitting's clock and
 * time limit (sitting-clock.ts).
 *
 * Resuming from `<out>/last` is exact: batch orders depend only on (seed, epoch), and every
 * dropout layer's mask stream is re-positioned from the global step before each step, so a run
 * stopped after k epochs and resumed reaches the same parameters as an uninterrupted one.
 */
import { makeTask } from "../data";
import type { StackedModel } from "../nn";
import { evaluate, testOnBest } from "./evaluate";
import { EpochRecord, epochRecord, improvesOn, RunFolder, validationMetric } from "./run-folder";
import { checkpointMeta, disposeRunState, startState } from "./run-state";
import { oneCycleCosine } from "./schedule";
import { SittingClock } from "./sitting-clock";
import { StepInfo, trainEpoch } from "./train-epoch";
import { resolveOptions, TrainOptions } from "./train-options";
import { summarize, TrainSummary } from "./train-summary";

export interface TrainHooks {
  onStep?: (info: StepInfo) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Called once the model exists, before the first step. */
  onStart?: (info: {
    model: StackedModel;
    trainSize: number;
    valSize: number;
    testSize: number;
    stepsPerEpoch: number;
    resumedFromEpoch: number | null;
  }) => void;
}

/** Trains a StackedModel on an MNIST task; see the module comment. */
export async function fit(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const cfg = resolveOptions(opts);
  const clock = new SittingClock(cfg.timeLimitMinutes);
  const trainTask = makeTask(cfg.task, "train", { limit: cfg.trainLimit });
  const valTask = makeTask(cfg.task, "validation", { limit: cfg.valLimit });
  const testTask = makeTask(cfg.task, "test", { limit: cfg.testLimit });
  const stepsPerEpoch = Math.ceil(trainTask.n / cfg.bsz);
  // One schedule over all epochs, whatever sitting a step falls in.
  const totalSteps = Math.max(2, stepsPerEpoch * cfg.epochs);
  const schedule = oneCycleCosine({ maxLr: cfg.lr, totalSteps });
  const lrAt = (step: number) => schedule(Math.min(step, totalSteps - 1));
  const folder = new RunFolder(cfg);
  await folder.create();
  const st = await startState(cfg, opts.resume ?? false, folder, trainTask);
  const wall = () => st.priorWall + clock.seconds();

  hooks.onStart?.({
    model: st.model,
    trainSize: trainTask.n,
    valSize: valTask.n,
    testSize: testTask.n,
    stepsPerEpoch,
    resumedFromEpoch: st.resumedFrom,
  });
  try {
    for (; st.epoch < cfg.epochs && !clock.outOfTime; st.epoch++) {
      // Train an epoch (or what is left of it), then validate.
      const trained = await trainEpoch(st, trainTask, cfg, lrAt, clock, hooks.onStep);
      const val = await evaluate(st.model, valTask, cfg.evalBsz);
      const at = { epoch: st.epoch + 1, step: st.step, lr: trained.lr, wallSeconds: wall(), partial: trained.partial };
      const record = epochRecord(cfg.task, at, trained.train, val);
      st.history.push(record);
      // Keep the best epoch on validation, and every epoch as `last`.
      const metric = validationMetric(cfg.task, val);
      const isBest = improvesOn(cfg.task, metric, st.best);
      if (isBest) {
        st.best = metric;
        st.bestEpoch = st.epoch + 1;
      }
      const resumeAt = trained.partial ? { epoch: st.epoch, batch: trained.batchesDone } : { epoch: st.epoch + 1, batch: 0 };
      await folder.keepEpoch(record, st.model, st.optimizer, checkpointMeta(st, resumeAt, cfg.seed, record.wall_s), isBest);
      hooks.onEpoch?.(record);
    }

    // Test once, on the best epoch's checkpoint.
    const test = await testOnBest(st.model, testTask, cfg.evalBsz, folder.bestPath);
    const summary = summarize(cfg, st, { wallSeconds: wall(), stoppedByTimeLimit: clock.outOfTime, test, testTask }, opts);
    folder.writeSummary(summary);
    return summary;
  } finally {
    disposeRunState(st);
  }
}
