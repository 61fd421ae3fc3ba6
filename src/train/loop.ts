/**
 * The training loop for the MNIST tasks: seeded batches, AdamW with a one-cycle cosine rate, an
 * evaluation on the validation split (the last 5 000 training images) after every epoch,
 * checkpoints (`last` every epoch, `best` when the validation metric improves), one metrics line
 * per epoch, and at the end a single evaluation of the test split on the `best` checkpoint and a
 * summary with the run's record (commit, backend, device, dates).
 *
 * Resuming from `<out>/last` is exact: batch orders depend only on (seed, epoch), and every
 * dropout layer's mask stream is re-positioned from the global step before each step, so a run
 * stopped after k epochs and resumed reaches the same parameters as an uninterrupted one.
 */
import * as tf from "@tensorflow/tfjs";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { batchIndices, makeTask, nllToBitsPerDim, Task, TaskName, TASK_NAMES } from "../data";
import { LAYER_KINDS, LayerKind, MAMBA_NO_WEIGHT_DECAY, StackedModel, StackedModelOptions } from "../nn";
import { AdamW, ParamGroup, s4ParamGroups } from "./adamw";
import { DeviceLog } from "./device-log";
import { lossAndAccuracy, StepTensors, trainStep } from "./step";
import { oneCycleCosine } from "./schedule";
import { loadModelCheckpoint, saveModelCheckpoint } from "./model-checkpoint";
import { RunInfo, runInfo } from "./run-info";
import { writeJsonAtomic } from "../atomic-write";

export interface TrainOptions {
  task: TaskName;
  layer: LayerKind;
  epochs: number;
  bsz: number;
  dModel: number;
  nLayers: number;
  n: number;
  lr: number;
  /** Decoupled weight decay of the non-SSM parameters. Default 0.01. */
  weightDecay?: number;
  /**
   * Learning-rate multiplier of the SSM parameters (no weight decay on them). Default 0.1. S4-family
   * layers only: Mamba's A_log, D and Δ bias train at the full rate without weight decay.
   */
  ssmLrScale?: number;
  /** Mamba only: d_inner = expand · dModel (default 2) and the convolution width dConv (default 4). */
  expand?: number;
  dConv?: number;
  /** S4 only: n/2 modes stored as conjugate pairs, about half the kernel's cost (S4LayerOptions). */
  conjugatePairs?: boolean;
  dropout?: number;
  prenorm?: boolean;
  clipNorm?: number;
  /**
   * Activation checkpointing: recompute each block's intermediates in the backward pass instead
   * of keeping them (same gradients, about one block's activations in memory instead of every
   * block's, one more forward pass per step). For sizes that do not fit, such as wasm's 4 GiB heap.
   */
  recompute?: boolean;
  seed?: number;
  /** Use only the first trainLimit training / valLimit validation / testLimit test examples. */
  trainLimit?: number;
  valLimit?: number;
  testLimit?: number;
  /** Batch size of the evaluation passes. Default max(bsz, 64). */
  evalBsz?: number;
  /**
   * Read the steps' loss and accuracy back every logEvery steps (onStep is then called for each of
   * them). Default 1 on cpu and wasm, whose values already live in host memory, and 50 elsewhere:
   * a GPU that must hand a value back after every step idles while the host waits.
   */
  logEvery?: number;
  /**
   * Stop training once this many minutes of this sitting's wall time have passed (checked after
   * every step), then evaluate, checkpoint and summarize as at the end of an epoch. The schedule
   * still spans all epochs, so a run that stops early ends before its learning rate has fully
   * decayed; resuming it (`resume`) continues at the next batch, with the limit counted afresh.
   */
  timeLimitMinutes?: number;
  /** Output folder. Default `runs/<task>-<layer>`. */
  out?: string;
  /** Continue from `<out>/last` when it exists. */
  resume?: boolean;
  /** The command line that started the run, kept in its summary (the CLI sets it). */
  command?: string;
  /** The preset (configs/<name>.json) or config file the options came from, kept in its summary (the CLI sets them). */
  preset?: string;
  configFile?: string;
}

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

type OptionalKeys = "clipNorm" | "trainLimit" | "valLimit" | "testLimit" | "expand" | "dConv" | "conjugatePairs" | "timeLimitMinutes";
/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<TrainOptions, OptionalKeys | "resume" | "command" | "preset" | "configFile">> & Pick<TrainOptions, OptionalKeys>;

export interface TrainHooks {
  onStep?: (info: StepInfo) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Called once the model exists, before the first step. */
  onStart?: (info: { model: StackedModel; trainSize: number; valSize: number; testSize: number; stepsPerEpoch: number; resumedFromEpoch: number | null }) => void;
}

function fail(name: string, value: unknown, expected: string): never {
  throw new Error(`train: ${name} must be ${expected}, got ${JSON.stringify(value)}`);
}

function posInt(name: string, v: unknown): number {
  if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) fail(name, v, "a positive integer");
  return v as number;
}

function resolveOptions(opts: TrainOptions): ResolvedOptions {
  if (typeof opts !== "object" || opts === null) fail("options", opts, "an object");
  if (!TASK_NAMES.includes(opts.task)) fail("task", opts.task, `one of ${TASK_NAMES.join(", ")}`);
  if (!LAYER_KINDS.includes(opts.layer)) fail("layer", opts.layer, `one of ${LAYER_KINDS.join(", ")}`);
  for (const k of ["epochs", "bsz", "dModel", "nLayers", "n"] as const) posInt(k, opts[k]);
  const mamba = opts.layer === "mamba";
  for (const k of ["expand", "dConv"] as const) if (!mamba && opts[k] !== undefined) fail(k, opts[k], `unset unless layer is mamba (layer is ${opts.layer})`);
  const expand = mamba ? opts.expand ?? 2 : undefined;
  if (mamba && !(typeof expand === "number" && expand > 0 && Number.isInteger(expand * opts.dModel))) fail("expand", expand, "a number > 0 with expand · dModel an integer");
  const dConv = mamba ? posInt("dConv", opts.dConv ?? 4) : undefined;
  if (opts.conjugatePairs !== undefined && opts.conjugatePairs !== false && opts.layer !== "s4") fail("conjugatePairs", opts.conjugatePairs, `unset unless layer is s4 (layer is ${opts.layer})`);
  if (opts.conjugatePairs !== undefined && typeof opts.conjugatePairs !== "boolean") fail("conjugatePairs", opts.conjugatePairs, "true or false");
  if (opts.conjugatePairs && opts.n % 2 !== 0) fail("n", opts.n, "even with conjugatePairs");
  const conjugatePairs = opts.layer === "s4" && opts.conjugatePairs ? true : undefined;
  if (opts.evalBsz !== undefined) posInt("evalBsz", opts.evalBsz);
  if (opts.logEvery !== undefined) posInt("logEvery", opts.logEvery);
  if (opts.trainLimit !== undefined) posInt("trainLimit", opts.trainLimit);
  if (opts.valLimit !== undefined) posInt("valLimit", opts.valLimit);
  if (opts.testLimit !== undefined) posInt("testLimit", opts.testLimit);
  if (!(typeof opts.lr === "number" && Number.isFinite(opts.lr) && opts.lr > 0)) fail("lr", opts.lr, "a number > 0");
  const weightDecay = opts.weightDecay ?? 0.01;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) fail("weightDecay", weightDecay, "a number >= 0");
  const ssmLrScale = opts.ssmLrScale ?? 0.1;
  if (!(Number.isFinite(ssmLrScale) && ssmLrScale >= 0)) fail("ssmLrScale", ssmLrScale, "a number >= 0");
  const dropout = opts.dropout ?? 0;
  if (!(Number.isFinite(dropout) && dropout >= 0 && dropout < 1)) fail("dropout", dropout, "a number in [0, 1)");
  if (opts.clipNorm !== undefined && !(Number.isFinite(opts.clipNorm) && opts.clipNorm > 0)) fail("clipNorm", opts.clipNorm, "a number > 0");
  if (opts.timeLimitMinutes !== undefined && !(Number.isFinite(opts.timeLimitMinutes) && opts.timeLimitMinutes > 0)) fail("timeLimitMinutes", opts.timeLimitMinutes, "a number > 0");
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) fail("seed", seed, "an integer");
  const recompute = opts.recompute ?? false;
  if (typeof recompute !== "boolean") fail("recompute", recompute, "true or false");
  return {
    task: opts.task,
    layer: opts.layer,
    epochs: opts.epochs,
    bsz: opts.bsz,
    dModel: opts.dModel,
    nLayers: opts.nLayers,
    n: opts.n,
    lr: opts.lr,
    weightDecay,
    ssmLrScale,
    dropout,
    prenorm: opts.prenorm ?? true,
    clipNorm: opts.clipNorm,
    recompute,
    timeLimitMinutes: opts.timeLimitMinutes,
    expand,
    dConv,
    conjugatePairs,
    seed,
    trainLimit: opts.trainLimit,
    valLimit: opts.valLimit,
    testLimit: opts.testLimit,
    evalBsz: opts.evalBsz ?? Math.max(opts.bsz, 64),
    logEvery: opts.logEvery ?? (["cpu", "wasm"].includes(tf.getBackend()) ? 1 : 50),
    out: opts.out ?? path.join("runs", `${opts.task}-${opts.layer}`),
  };
}


/**
 * The wasm backend's heap is at most 4 GiB; running out of it aborts the wasm module with a bare
 * "Aborted()". Says what happened and what to change instead.
 */
function explainOutOfMemory(e: unknown, cfg: ResolvedOptions): unknown {
  if (tf.getBackend() !== "wasm" || !/Aborted\(|out of memory|Cannot enlarge memory|memory access out of bounds/i.test(String(e))) return e;
  const fix = cfg.recompute ? "lower bsz or dModel" : "set recompute (--recompute), or lower bsz or dModel";
  return new Error(`train: the wasm backend ran out of memory (its heap holds at most 4 GiB) in a training step with bsz ${cfg.bsz}, dModel ${cfg.dModel}, nLayers ${cfg.nLayers}, layer ${cfg.layer}; ${fix}. (wasm said: ${String(e)})`);
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

/** Loss and accuracy over the whole split, in batches, without dropout. The per-batch values stay
 * on the device and come back in one read at the end. */
export async function evaluate(model: StackedModel, task: Task, bsz: number): Promise<{ loss: number; accuracy: number }> {
  const log = new DeviceLog();
  try {
    for (const idx of batchIndices(task.n, bsz, { shuffle: false, seed: 0, epoch: 0 })) {
      const r = tf.tidy(() => {
        const { x, y } = task.makeBatch(idx);
        return lossAndAccuracy(model.forward(x, { training: false }), y, task.numClasses);
      });
      log.push([r.loss, r.accuracy], idx.length);
    }
    const { values, weights } = await log.read();
    const count = weights.reduce((a, b) => a + b, 0);
    const mean = (k: number) => values.reduce((sum, row, i) => sum + row[k] * weights[i], 0) / count;
    return { loss: mean(0), accuracy: mean(1) };
  } finally {
    log.dispose();
  }
}

/** The model, optimizer and progress a run starts from: fresh, or `<out>/last` when resuming. */
interface RunState {
  model: StackedModel;
  optimizer: AdamW;
  epoch: number;
  /** Batches of `epoch` already trained (a sitting stopped inside it), else 0. */
  batchInEpoch: number;
  step: number;
  best: number;
  bestEpoch: number;
  history: EpochRecord[];
  priorWall: number;
  resumedFrom: number | null;
  run: RunInfo;
}

/** Settings a resumed run must share with the run that wrote the checkpoint. */
const RESUME_KEYS = ["task", "layer", "dModel", "nLayers", "n", "expand", "dConv", "conjugatePairs", "seed", "bsz", "trainLimit", "valLimit"] as const;

async function startState(cfg: ResolvedOptions, resume: boolean, trainTask: Task, metricsPath: string): Promise<RunState> {
  const groups = paramGroupsFor(cfg.layer, cfg.ssmLrScale);
  const adamOpts = { lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm };
  const lastPath = path.join(cfg.out, "last");
  const sequence = cfg.task === "mnist";
  if (!(resume && fs.existsSync(`${lastPath}.json`))) {
    const model = new StackedModel(modelOptions(cfg, trainTask));
    await fsp.rm(metricsPath, { force: true });
    return {
      model, optimizer: new AdamW(model.parameters(), groups, adamOpts), epoch: 0, batchInEpoch: 0, step: 0,
      best: sequence ? Infinity : -Infinity, bestEpoch: 0, history: [], priorWall: 0, resumedFrom: null,
      run: await runInfo(),
    };
  }
  const saved = await loadModelCheckpoint(lastPath);
  const savedCfg = (saved.config.training ?? {}) as Record<string, unknown>;
  const mismatch = RESUME_KEYS.find((k) => savedCfg[k] !== cfg[k]);
  if (mismatch) {
    saved.model.dispose();
    if (saved.optimizerState) tf.dispose(Object.values(saved.optimizerState.tensors));
    throw new Error(`train: cannot resume from ${lastPath}: it was trained with ${mismatch} = ${JSON.stringify(savedCfg[mismatch])}, this run asks for ${JSON.stringify(cfg[mismatch])}`);
  }
  const optimizer = new AdamW(saved.model.parameters(), groups, adamOpts);
  if (saved.optimizerState) {
    optimizer.setState(saved.optimizerState);
    tf.dispose(Object.values(saved.optimizerState.tensors));
  }
  const m = saved.meta;
  const epoch = Number(m.epoch);
  return {
    model: saved.model, optimizer, epoch, batchInEpoch: typeof m.batch_in_epoch === "number" ? m.batch_in_epoch : 0, step: Number(m.step),
    best: typeof m.best === "number" ? m.best : sequence ? Infinity : -Infinity,
    bestEpoch: typeof m.best_epoch === "number" ? m.best_epoch : 0,
    history: Array.isArray(m.history) ? (m.history as EpochRecord[]) : [],
    priorWall: typeof m.wall_s === "number" ? m.wall_s : 0,
    resumedFrom: epoch,
    // The record keeps the first start: a resumed run is one run in several sittings.
    run: typeof m.run === "object" && m.run !== null ? (m.run as RunInfo) : await runInfo(),
  };
}

/** The test split, evaluated once on the `best` checkpoint (or on the model when none was saved). */
async function finalTest(st: RunState, cfg: ResolvedOptions, testTask: Task, bestPath: string): Promise<{ loss: number; accuracy: number }> {
  if (!fs.existsSync(`${bestPath}.json`)) return evaluate(st.model, testTask, cfg.evalBsz);
  const best = await loadModelCheckpoint(bestPath);
  try {
    return await evaluate(best.model, testTask, cfg.evalBsz);
  } finally {
    best.model.dispose();
    if (best.optimizerState) tf.dispose(Object.values(best.optimizerState.tensors));
  }
}

/** Trains a StackedModel on an MNIST task; see the module comment. */
export async function train(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const cfg = resolveOptions(opts);
  const t0 = Date.now();
  const trainTask = makeTask(cfg.task, "train", { limit: cfg.trainLimit });
  const valTask = makeTask(cfg.task, "validation", { limit: cfg.valLimit });
  const testTask = makeTask(cfg.task, "test", { limit: cfg.testLimit });
  const stepsPerEpoch = Math.ceil(trainTask.n / cfg.bsz);
  const totalSteps = Math.max(2, stepsPerEpoch * cfg.epochs);
  const schedule = oneCycleCosine({ maxLr: cfg.lr, totalSteps });
  await fsp.mkdir(cfg.out, { recursive: true });
  const lastPath = path.join(cfg.out, "last");
  const bestPath = path.join(cfg.out, "best");
  const metricsPath = path.join(cfg.out, "metrics.jsonl");
  const sequence = cfg.task === "mnist";
  const training: Record<string, unknown> = { ...cfg };
  const st = await startState(cfg, opts.resume ?? false, trainTask, metricsPath);

  hooks.onStart?.({ model: st.model, trainSize: trainTask.n, valSize: valTask.n, testSize: testTask.n, stepsPerEpoch, resumedFromEpoch: st.resumedFrom });
  const wall = () => st.priorWall + (Date.now() - t0) / 1000;
  // The limit is per sitting: a resumed run gets the full limit again.
  const timeLimit = cfg.timeLimitMinutes !== undefined ? cfg.timeLimitMinutes * 60 : undefined;
  const sitting = () => (Date.now() - t0) / 1000;
  let outOfTime = false;

  try {
    for (; st.epoch < cfg.epochs && !outOfTime; st.epoch++) {
      const batches = batchIndices(trainTask.n, cfg.bsz, { shuffle: true, seed: cfg.seed, epoch: st.epoch });
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
          if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at step ${first + k} (epoch ${st.epoch}); try a smaller lr (now ${cfg.lr}) or a clipNorm`);
          lossSum += loss * weights[k];
          accSum += acc * weights[k];
          seen += weights[k];
          hooks.onStep?.({
            epoch: st.epoch, stepInEpoch: stepInEpoch - values.length + k + 1, stepsPerEpoch: batches.length, step: first + k + 1,
            loss, accuracy: acc, lr: logLr[k], ...(gradNorm !== undefined ? { gradNorm } : {}),
          });
        });
        logLr = [];
      };
      // A sitting that stopped inside this epoch left where: continue from the next batch.
      let done = st.batchInEpoch;
      st.batchInEpoch = 0;
      try {
        for (let i = done; i < batches.length && !outOfTime; i++) {
          lr = schedule(Math.min(st.step, totalSteps - 1));
          const batch = trainTask.makeBatch(batches[i]);
          let out: StepTensors;
          try {
            out = trainStep(st.model, st.optimizer, batch, trainTask.numClasses, st.step, lr, { recompute: cfg.recompute });
          } catch (e) {
            throw explainOutOfMemory(e, cfg);
          } finally {
            tf.dispose([batch.x, batch.y]);
          }
          st.step++;
          log.push([out.loss, out.accuracy, ...(out.gradNorm ? [out.gradNorm] : [])], batches[i].length);
          logLr.push(lr);
          if (timeLimit !== undefined && sitting() >= timeLimit) outOfTime = true;
          if (log.length >= cfg.logEvery || i === batches.length - 1 || outOfTime) await flush(i + 1);
          done = i + 1;
        }
      } finally {
        log.dispose();
      }
      const partial = done < batches.length;
      const ev = await evaluate(st.model, valTask, cfg.evalBsz);
      const record: EpochRecord = {
        epoch: st.epoch + 1, step: st.step, train_loss: lossSum / seen, train_accuracy: accSum / seen,
        val_loss: ev.loss, val_accuracy: ev.accuracy, lr, wall_s: wall(), ...(partial ? { partial: true } : {}),
      };
      if (sequence) record.val_bits_per_dim = nllToBitsPerDim(ev.loss);
      st.history.push(record);
      const improved = sequence ? ev.loss < st.best : ev.accuracy > st.best;
      if (improved) {
        st.best = sequence ? ev.loss : ev.accuracy;
        st.bestEpoch = st.epoch + 1;
      }
      // A cut-short epoch is resumed at its next batch (the batch order depends only on seed and epoch).
      const meta = { epoch: partial ? st.epoch : st.epoch + 1, batch_in_epoch: partial ? done : 0, step: st.step, best: st.best, best_epoch: st.bestEpoch, seed: cfg.seed, wall_s: record.wall_s, history: st.history, run: st.run };
      await fsp.appendFile(metricsPath, JSON.stringify(record) + "\n");
      await saveModelCheckpoint(lastPath, st.model, { training, optimizer: st.optimizer, meta });
      if (improved) await saveModelCheckpoint(bestPath, st.model, { training, meta });
      hooks.onEpoch?.(record);
    }

    const test = await finalTest(st, cfg, testTask, bestPath);
    const chosen = st.history.find((r) => r.epoch === st.bestEpoch);
    const summary: TrainSummary = {
      task: cfg.task,
      layer: cfg.layer,
      backend: st.run.backend,
      params: st.model.countParams(),
      epochs: cfg.epochs,
      steps: st.step,
      wall_s: wall(),
      best_epoch: st.bestEpoch,
      val_loss: chosen?.val_loss ?? NaN,
      val_accuracy: chosen?.val_accuracy ?? NaN,
      test_loss: test.loss,
      test_accuracy: test.accuracy,
      test_examples: testTask.n,
      best: st.best,
      out: cfg.out,
      resumed_from_epoch: st.resumedFrom,
      stopped_by_time_limit: outOfTime,
      config: cfg,
      run: { ...st.run, finished_at: new Date().toISOString() },
      command: opts.command ?? null,
      preset: opts.preset ?? null,
      config_file: opts.configFile ?? null,
      history: st.history,
    };
    if (sequence) {
      summary.val_bits_per_dim = chosen?.val_bits_per_dim;
      summary.test_nll = test.loss;
      summary.test_bits_per_dim = nllToBitsPerDim(test.loss);
    }
    writeJsonAtomic(path.join(cfg.out, "summary.json"), summary);
    return summary;
  } finally {
    st.optimizer.dispose();
    st.model.dispose();
  }
}
