/**
 * A run's folder and what it keeps there:
 *   metrics.jsonl   one line per epoch (an EpochRecord: training and validation figures)
 *   last            the checkpoint of the latest epoch, with the optimizer state, to resume from
 *   best            the checkpoint of the epoch with the best validation metric (chosen on the
 *                   validation split only; the test split is evaluated once, at the end, on it)
 *   summary.json    the run's summary (a TrainSummary), written when it ends
 * Next-pixel modeling (task "mnist") is judged on validation loss, lower being better;
 * classification on validation accuracy, higher being better. The first of equal epochs stays best.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { nllToBitsPerDim, TaskName } from "../data";
import type { StackedModel } from "../nn";
import type { AdamW } from "./adamw";
import { saveModelCheckpoint } from "./model-checkpoint";
import { writeJsonAtomic } from "../atomic-write";
import type { ResolvedOptions } from "./train-options";

export interface EpochRecord {
  epoch: number;
  step: number;
  train_loss: number;
  train_accuracy: number;
  /** The validation split's mean loss (nats), accuracy and, for next-pixel modeling, bits/dim. */
  val_loss: number;
  val_accuracy: number;
  val_bits_per_dim?: number;
  lr: number;
  wall_s: number;
  /** True when the time limit ended this epoch early; a resumed run finishes it. */
  partial?: boolean;
}

/** Mean loss (nats) and accuracy over a split. */
export interface SplitMetrics {
  loss: number;
  accuracy: number;
}

/** True for next-pixel modeling, whose records add bits/dim and whose best epoch has the lowest loss. */
export function isNextPixel(task: TaskName): boolean {
  return task === "mnist";
}

/** The validation metric the best epoch is chosen on. */
export function validationMetric(task: TaskName, val: SplitMetrics): number {
  return isNextPixel(task) ? val.loss : val.accuracy;
}

/** The best metric before any epoch: every first epoch improves on it. */
export function initialBest(task: TaskName): number {
  return isNextPixel(task) ? Infinity : -Infinity;
}

/** True when `metric` is strictly better than `best` (ties keep the earlier epoch). */
export function improvesOn(task: TaskName, metric: number, best: number): boolean {
  return isNextPixel(task) ? metric < best : metric > best;
}

/** One metrics.jsonl line: the epoch's training means and its validation figures. */
export function epochRecord(
  task: TaskName,
  at: { epoch: number; step: number; lr: number; wallSeconds: number; partial: boolean },
  train: SplitMetrics,
  val: SplitMetrics,
): EpochRecord {
  const record: EpochRecord = {
    epoch: at.epoch,
    step: at.step,
    train_loss: train.loss,
    train_accuracy: train.accuracy,
    val_loss: val.loss,
    val_accuracy: val.accuracy,
    lr: at.lr,
    wall_s: at.wallSeconds,
    ...(at.partial ? { partial: true } : {}),
  };
  if (isNextPixel(task)) record.val_bits_per_dim = nllToBitsPerDim(val.loss);
  return record;
}

/** The files of one run under `cfg.out`. */
export class RunFolder {
  readonly out: string;
  readonly lastPath: string;
  readonly bestPath: string;
  readonly metricsPath: string;
  readonly summaryPath: string;
  /** The options, kept in every checkpoint so that a resumed run can be checked against them. */
  private readonly training: Record<string, unknown>;

  constructor(cfg: ResolvedOptions) {
    this.out = cfg.out;
    this.lastPath = path.join(cfg.out, "last");
    this.bestPath = path.join(cfg.out, "best");
    this.metricsPath = path.join(cfg.out, "metrics.jsonl");
    this.summaryPath = path.join(cfg.out, "summary.json");
    this.training = { ...cfg };
  }

  async create(): Promise<void> {
    await fsp.mkdir(this.out, { recursive: true });
  }

  /** A fresh run starts a new metrics file (a resumed one appends to its own). */
  async clearMetrics(): Promise<void> {
    await fsp.rm(this.metricsPath, { force: true });
  }

  /** True when a checkpoint (its `.json` manifest) exists at `checkpointPath`. */
  static hasCheckpoint(checkpointPath: string): boolean {
    return fs.existsSync(`${checkpointPath}.json`);
  }

  /**
   * Keeps an epoch: its metrics line, `last` (with the optimizer state and `meta`, to resume from)
   * and, when it is the best so far on validation, `best`.
   */
  async keepEpoch(
    record: EpochRecord,
    model: StackedModel,
    optimizer: AdamW,
    meta: Record<string, unknown>,
    isBest: boolean,
  ): Promise<void> {
    await fsp.appendFile(this.metricsPath, JSON.stringify(record) + "\n");
    await saveModelCheckpoint(this.lastPath, model, { training: this.training, optimizer, meta });
    if (isBest) await saveModelCheckpoint(this.bestPath, model, { training: this.training, meta });
  }

  /** summary.json, written atomically. */
  writeSummary(summary: object): void {
    writeJsonAtomic(this.summaryPath, summary);
  }
}
