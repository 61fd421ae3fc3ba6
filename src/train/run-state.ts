/**
 * Where a run starts from: a fresh model and optimizer, or, when resuming, the model, optimizer
 * state and progress kept in `<out>/last`. Resuming is exact: batch orders depend only on
 * (seed, epoch) and dropout masks only on the global step, so a run continued from `last` reaches
 * the same parameters as one that never stopped.
 */
import * as tf from "@tensorflow/tfjs";
import type { Task } from "../data";
import { LayerKind, StackedModel, StackedModelOptions } from "../nn";
import { MAMBA_NO_WEIGHT_DECAY } from "../nn/mamba-block";
import { AdamW, ParamGroup, s4ParamGroups } from "./adamw";
import { loadModelCheckpoint } from "./model-checkpoint";
import { EpochRecord, initialBest, RunFolder } from "./run-folder";
import { RunInfo, runInfo } from "./run-info";
import type { ResolvedOptions } from "./train-options";

/** The model, optimizer and progress of a run; the loop advances it epoch by epoch. */
export interface RunState {
  model: StackedModel;
  optimizer: AdamW;
  /** The epoch being trained (0-based); equals the number of finished epochs between epochs. */
  epoch: number;
  /** Batches of `epoch` already trained (a sitting stopped inside it), else 0. */
  batchInEpoch: number;
  /** Optimizer steps taken so far, over all sittings. */
  step: number;
  /** The best validation metric so far and the epoch (1-based; 0 before any) that reached it. */
  best: number;
  bestEpoch: number;
  history: EpochRecord[];
  /** Wall seconds of earlier sittings. */
  priorWall: number;
  /** The epoch `last` held when this sitting resumed from it, or null for a fresh run. */
  resumedFrom: number | null;
  run: RunInfo;
}

function modelOptions(cfg: ResolvedOptions, task: Task): StackedModelOptions {
  return {
    task: cfg.task === "mnist" ? "sequence" : "classification",
    layerKind: cfg.layer,
    dModel: cfg.dModel,
    nLayers: cfg.nLayers,
    n: cfg.n,
    l: task.seqLen,
    numClasses: task.numClasses,
    prenorm: cfg.prenorm,
    dropout: cfg.dropout,
    embedding: task.inputKind === "tokens",
    ...(cfg.layer === "mamba" ? { expand: cfg.expand, dConv: cfg.dConv } : {}),
    ...(cfg.conjugatePairs ? { conjugatePairs: true } : {}),
    seed: cfg.seed,
  };
}

/**
 * The optimizer's parameter groups for a layer kind. S4-family layers: the S4 recipe
 * (`s4ParamGroups`). Mamba: A_log, D and the Δ bias without weight decay, at the full rate (the
 * reference recipe); ssmLrScale does not apply.
 */
export function paramGroupsFor(layer: LayerKind, ssmLrScale = 0.1): ParamGroup[] {
  if (layer !== "mamba") return s4ParamGroups({ ssmLrScale });
  const noDecay = (name: string) => MAMBA_NO_WEIGHT_DECAY.includes(name.slice(name.lastIndexOf(".") + 1));
  return [{ name: "mamba-no-decay", match: noDecay, lr: 1, weightDecay: 0 }];
}

function optimizerFor(model: StackedModel, cfg: ResolvedOptions): AdamW {
  const groups = paramGroupsFor(cfg.layer, cfg.ssmLrScale);
  return new AdamW(model.parameters(), groups, { lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm });
}

/** Settings a resumed run must share with the run that wrote the checkpoint. */
const RESUME_KEYS = [
  "task",
  "layer",
  "dModel",
  "nLayers",
  "n",
  "expand",
  "dConv",
  "conjugatePairs",
  "seed",
  "bsz",
  "trainLimit",
  "valLimit",
] as const;

/** A new model (seeded by cfg.seed) and optimizer, before the first step. */
export async function freshState(cfg: ResolvedOptions, trainTask: Task): Promise<RunState> {
  const model = new StackedModel(modelOptions(cfg, trainTask));
  return {
    model,
    optimizer: optimizerFor(model, cfg),
    epoch: 0,
    batchInEpoch: 0,
    step: 0,
    best: initialBest(cfg.task),
    bestEpoch: 0,
    history: [],
    priorWall: 0,
    resumedFrom: null,
    run: await runInfo(),
  };
}

/**
 * The run as `<lastPath>` left it. Throws, naming the setting, when the checkpoint was trained
 * with a model shape, seed or data selection other than cfg's.
 */
export async function resumedState(cfg: ResolvedOptions, lastPath: string): Promise<RunState> {
  const saved = await loadModelCheckpoint(lastPath);
  const savedCfg = (saved.config.training ?? {}) as Record<string, unknown>;
  const mismatch = RESUME_KEYS.find((k) => savedCfg[k] !== cfg[k]);
  if (mismatch) {
    saved.model.dispose();
    if (saved.optimizerState) tf.dispose(Object.values(saved.optimizerState.tensors));
    throw new Error(
      `train: cannot resume from ${lastPath}: it was trained with ${mismatch} = ${JSON.stringify(savedCfg[mismatch])}, this run asks for ${JSON.stringify(cfg[mismatch])}`,
    );
  }
  const optimizer = optimizerFor(saved.model, cfg);
  if (saved.optimizerState) {
    optimizer.setState(saved.optimizerState);
    tf.dispose(Object.values(saved.optimizerState.tensors));
  }
  const m = saved.meta;
  const epoch = Number(m.epoch);
  return {
    model: saved.model,
    optimizer,
    epoch,
    batchInEpoch: typeof m.batch_in_epoch === "number" ? m.batch_in_epoch : 0,
    step: Number(m.step),
    best: typeof m.best === "number" ? m.best : initialBest(cfg.task),
    bestEpoch: typeof m.best_epoch === "number" ? m.best_epoch : 0,
    history: Array.isArray(m.history) ? (m.history as EpochRecord[]) : [],
    priorWall: typeof m.wall_s === "number" ? m.wall_s : 0,
    resumedFrom: epoch,
    // The record keeps the first start: a resumed run is one run in several sittings.
    run: typeof m.run === "object" && m.run !== null ? (m.run as RunInfo) : await runInfo(),
  };
}

/**
 * The run's progress as a checkpoint's meta, which resumedState reads back. `resumeAt` is where a
 * later sitting continues: the next epoch, or the next batch of an epoch the time limit cut short
 * (the batch order depends only on seed and epoch).
 */
export function checkpointMeta(
  st: RunState,
  resumeAt: { epoch: number; batch: number },
  seed: number,
  wallSeconds: number,
): Record<string, unknown> {
  return {
    epoch: resumeAt.epoch,
    batch_in_epoch: resumeAt.batch,
    step: st.step,
    best: st.best,
    best_epoch: st.bestEpoch,
    seed,
    wall_s: wallSeconds,
    history: st.history,
    run: st.run,
  };
}

/**
 * Where a sitting starts: `<out>/last` when resuming and it exists, else a fresh model (and a fresh
 * metrics.jsonl).
 */
export async function startState(cfg: ResolvedOptions, resume: boolean, folder: RunFolder, trainTask: Task): Promise<RunState> {
  if (resume && RunFolder.hasCheckpoint(folder.lastPath)) return resumedState(cfg, folder.lastPath);
  const st = await freshState(cfg, trainTask);
  await folder.clearMetrics();
  return st;
}

/** Frees the model's and the optimizer's tensors. */
export function disposeRunState(st: RunState): void {
  st.optimizer.dispose();
  st.model.dispose();
}
