/**
 * The summary of a run (summary.json): its task and model, the epoch chosen on validation with its
 * validation figures, the test split evaluated once on that epoch's checkpoint, the options, where
 * and when it ran, and every epoch's record.
 */
import { nllToBitsPerDim, Task, TaskName } from "../data";
import type { LayerKind } from "../nn";
import { EpochRecord, isNextPixel, SplitMetrics } from "./run-folder";
import type { RunInfo } from "./run-info";
import type { RunState } from "./run-state";
import type { ResolvedOptions, TrainOptions } from "./train-options";

export interface TrainSummary {
  task: TaskName;
  layer: LayerKind;
  backend: string;
  params: number;
  epochs: number;
  steps: number;
  wall_s: number;
  /** The epoch whose checkpoint (`best`) was chosen on validation, and its validation metrics. */
  best_epoch: number;
  val_loss: number;
  val_accuracy: number;
  val_bits_per_dim?: number;
  /** The test split, evaluated once, on the `best` checkpoint. */
  test_loss: number;
  test_accuracy: number;
  test_nll?: number;
  test_bits_per_dim?: number;
  test_examples: number;
  /** The best validation metric: loss for next-pixel modeling, accuracy for classification. */
  best: number;
  out: string;
  resumed_from_epoch: number | null;
  /** True when timeLimitMinutes ended training before the last epoch was complete. */
  stopped_by_time_limit: boolean;
  config: ResolvedOptions;
  /** Where and when it ran (commit, backend, device, versions, start and end). */
  run: RunInfo;
  command: string | null;
  /** The preset and config file (relative to the package root where inside it) the run's options came from. */
  preset?: string | null;
  config_file?: string | null;
  history: EpochRecord[];
}

/** Where the run came from, as the command line recorded it. */
type Provenance = Pick<TrainOptions, "command" | "preset" | "configFile">;

/** The summary of the run in `st` once training has ended and the test split has been evaluated. */
export function summarize(
  cfg: ResolvedOptions,
  st: RunState,
  ended: { wallSeconds: number; stoppedByTimeLimit: boolean; test: SplitMetrics; testTask: Task },
  from: Provenance,
): TrainSummary {
  const chosen = st.history.find((r) => r.epoch === st.bestEpoch);
  const { test } = ended;
  const summary: TrainSummary = {
    task: cfg.task,
    layer: cfg.layer,
    backend: st.run.backend,
    params: st.model.countParams(),
    epochs: cfg.epochs,
    steps: st.step,
    wall_s: ended.wallSeconds,
    best_epoch: st.bestEpoch,
    val_loss: chosen?.val_loss ?? NaN,
    val_accuracy: chosen?.val_accuracy ?? NaN,
    test_loss: test.loss,
    test_accuracy: test.accuracy,
    test_examples: ended.testTask.n,
    best: st.best,
    out: cfg.out,
    resumed_from_epoch: st.resumedFrom,
    stopped_by_time_limit: ended.stoppedByTimeLimit,
    config: cfg,
    run: { ...st.run, finished_at: new Date().toISOString() },
    command: from.command ?? null,
    preset: from.preset ?? null,
    config_file: from.configFile ?? null,
    history: st.history,
  };
  if (isNextPixel(cfg.task)) {
    summary.val_bits_per_dim = chosen?.val_bits_per_dim;
    summary.test_nll = test.loss;
    summary.test_bits_per_dim = nllToBitsPerDim(test.loss);
  }
  return summary;
}
