/**
 * The training loop for the MNIST tasks: seeded batches, AdamW with a one-cycle cosine rate, an
 * evaluation on the test split after every epoch, checkpoints (`last` every epoch, `best` when
 * the evaluation metric improves), one metrics line per epoch and a final summary.
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
import { currentBackend } from "../backend";
import { AdamW, ParamGroup, s4ParamGroups } from "./adamw";
import { oneCycleCosine } from "./schedule";
import { loadModelCheckpoint, saveModelCheckpoint } from "./model-checkpoint";

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
  /** Use only the first trainLimit training / testLimit test examples. */
  trainLimit?: number;
  testLimit?: number;
  /** Batch size of the evaluation passes. Default max(bsz, 64). */
  evalBsz?: number;
  /**
   * Stop training once this many minutes of wall time have passed (checked after every step),
   * then evaluate, checkpoint and summarize as at the end of an epoch. The schedule still spans
   * all epochs, so a run that stops early ends before its learning rate has fully decayed.
   */
  timeLimitMinutes?: number;
  /** Output folder. Default `runs/<task>-<layer>`. */
  out?: string;
  /** Continue from `<out>/last` when it exists. */
  resume?: boolean;
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
  test_loss: number;
  test_accuracy: number;
  test_nll?: number;
  test_bits_per_dim?: number;
  lr: number;
  wall_s: number;
}

export interface TrainSummary {
  task: TaskName;
  layer: LayerKind;
  backend: string;
  params: number;
  epochs: number;
  steps: number;
  wall_s: number;
  test_loss: number;
  test_accuracy: number;
  test_nll?: number;
  test_bits_per_dim?: number;
  best: number;
  out: string;
  resumed_from_epoch: number | null;
  /** True when timeLimitMinutes ended training before the last epoch was complete. */
  stopped_by_time_limit: boolean;
  config: Required<Omit<TrainOptions, "clipNorm" | "trainLimit" | "testLimit" | "resume" | "expand" | "dConv" | "timeLimitMinutes">> & Pick<TrainOptions, "clipNorm" | "trainLimit" | "testLimit" | "expand" | "dConv" | "timeLimitMinutes">;
  history: EpochRecord[];
}

export interface TrainHooks {
  onStep?: (info: StepInfo) => void;
  onEpoch?: (record: EpochRecord) => void;
  /** Called once the model exists, before the first step. */
  onStart?: (info: { model: StackedModel; trainSize: number; testSize: number; stepsPerEpoch: number; resumedFromEpoch: number | null }) => void;
}

/** Dropout mask indices reserved per optimizer step (each block draws a few masks per forward). */
const DROPOUT_STRIDE = 64;

function fail(name: string, value: unknown, expected: string): never {
  throw new Error(`train: ${name} must be ${expected}, got ${JSON.stringify(value)}`);
}

function posInt(name: string, v: unknown): number {
  if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) fail(name, v, "a positive integer");
  return v as number;
}

function resolveOptions(opts: TrainOptions): TrainSummary["config"] {
  if (typeof opts !== "object" || opts === null) fail("options", opts, "an object");
  if (!TASK_NAMES.includes(opts.task)) fail("task", opts.task, `one of ${TASK_NAMES.join(", ")}`);
  if (!LAYER_KINDS.includes(opts.layer)) fail("layer", opts.layer, `one of ${LAYER_KINDS.join(", ")}`);
  for (const k of ["epochs", "bsz", "dModel", "nLayers", "n"] as const) posInt(k, opts[k]);
  const mamba = opts.layer === "mamba";
  for (const k of ["expand", "dConv"] as const) if (!mamba && opts[k] !== undefined) fail(k, opts[k], `unset unless layer is mamba (layer is ${opts.layer})`);
  const expand = mamba ? opts.expand ?? 2 : undefined;
  if (mamba && !(typeof expand === "number" && expand > 0 && Number.isInteger(expand * opts.dModel))) fail("expand", expand, "a number > 0 with expand · dModel an integer");
  const dConv = mamba ? posInt("dConv", opts.dConv ?? 4) : undefined;
  if (opts.evalBsz !== undefined) posInt("evalBsz", opts.evalBsz);
  if (opts.trainLimit !== undefined) posInt("trainLimit", opts.trainLimit);
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
    seed,
    trainLimit: opts.trainLimit,
    testLimit: opts.testLimit,
    evalBsz: opts.evalBsz ?? Math.max(opts.bsz, 64),
    out: opts.out ?? path.join("runs", `${opts.task}-${opts.layer}`),
  };
}

/** Writes JSON through a temporary file and a rename, so readers never see half a file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await fsp.rename(tmp, file);
}

/** Mean cross-entropy (nats) and accuracy of logits (b, C) or (b, l, C) against int labels. */
function lossAndAccuracy(logits: tf.Tensor, labels: tf.Tensor, numClasses: number): { loss: tf.Scalar; correct: tf.Scalar } {
  const flat = tf.reshape(logits, [-1, numClasses]) as tf.Tensor2D;
  const y = tf.reshape(labels, [-1]);
  const logp = tf.logSoftmax(flat);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(tf.cast(y, "int32"), numClasses)), 1))) as tf.Scalar;
  const correct = tf.mean(tf.cast(tf.equal(tf.argMax(flat, 1), tf.cast(y, "int32")), "float32")) as tf.Scalar;
  return { loss, correct };
}

/**
 * The wasm backend's heap is at most 4 GiB; running out of it aborts the wasm module with a bare
 * "Aborted()". Says what happened and what to change instead.
 */
function explainOutOfMemory(e: unknown, cfg: TrainSummary["config"]): unknown {
  if (tf.getBackend() !== "wasm" || !/Aborted\(|out of memory|Cannot enlarge memory/i.test(String(e))) return e;
  const fix = cfg.recompute ? "lower bsz or dModel" : "set recompute (--recompute), or lower bsz or dModel";
  return new Error(`train: the wasm backend ran out of memory (its heap holds at most 4 GiB) in a training step with bsz ${cfg.bsz}, dModel ${cfg.dModel}, nLayers ${cfg.nLayers}, layer ${cfg.layer}; ${fix}. (wasm said: ${String(e)})`);
}

/** Puts every dropout layer's mask stream at the position reserved for `step`. */
function positionDropout(model: StackedModel, step: number): void {
  for (const b of model.blocks) if (b.drop) b.drop.position = step * DROPOUT_STRIDE;
}

function modelOptions(cfg: TrainSummary["config"], task: Task): StackedModelOptions {
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

/** Loss and accuracy over the whole split, in batches, without dropout. Reads values
 * asynchronously, as every backend allows (WebGPU cannot read synchronously). */
export async function evaluate(model: StackedModel, task: Task, bsz: number): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let accSum = 0;
  let count = 0;
  for (const idx of batchIndices(task.n, bsz, { shuffle: false, seed: 0, epoch: 0 })) {
    const [l, a] = tf.tidy(() => {
      const { x, y } = task.makeBatch(idx);
      const r = lossAndAccuracy(model.forward(x, { training: false }), y, task.numClasses);
      return [r.loss, r.correct];
    });
    lossSum += (await l.data())[0] * idx.length;
    accSum += (await a.data())[0] * idx.length;
    tf.dispose([l, a]);
    count += idx.length;
  }
  return { loss: lossSum / count, accuracy: accSum / count };
}

/** Trains a StackedModel on an MNIST task; see the module comment. */
export async function train(opts: TrainOptions, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const cfg = resolveOptions(opts);
  const t0 = Date.now();
  const trainTask = makeTask(cfg.task, "train", { limit: cfg.trainLimit });
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

  let model: StackedModel;
  let startEpoch = 0;
  let step = 0;
  let best = sequence ? Infinity : -Infinity;
  let history: EpochRecord[] = [];
  let resumedFrom: number | null = null;
  let priorWall = 0;
  let optimizer: AdamW;
  const groups = paramGroupsFor(cfg.layer, cfg.ssmLrScale);
  const adamOpts = { lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: cfg.clipNorm };

  if (opts.resume && fs.existsSync(`${lastPath}.json`)) {
    const saved = await loadModelCheckpoint(lastPath);
    model = saved.model;
    const m = saved.meta;
    const savedCfg = (saved.config.training ?? {}) as Record<string, unknown>;
    for (const k of ["task", "layer", "dModel", "nLayers", "n", "expand", "dConv", "seed", "bsz", "trainLimit"] as const) {
      if (savedCfg[k] !== cfg[k]) {
        model.dispose();
        if (saved.optimizerState) tf.dispose(Object.values(saved.optimizerState.tensors));
        throw new Error(`train: cannot resume from ${lastPath}: it was trained with ${k} = ${JSON.stringify(savedCfg[k])}, this run asks for ${JSON.stringify(cfg[k])}`);
      }
    }
    optimizer = new AdamW(model.parameters(), groups, adamOpts);
    if (saved.optimizerState) {
      optimizer.setState(saved.optimizerState);
      tf.dispose(Object.values(saved.optimizerState.tensors));
    }
    startEpoch = Number(m.epoch);
    step = Number(m.step);
    best = typeof m.best === "number" ? m.best : best;
    history = Array.isArray(m.history) ? (m.history as EpochRecord[]) : [];
    priorWall = typeof m.wall_s === "number" ? m.wall_s : 0;
    resumedFrom = startEpoch;
  } else {
    model = new StackedModel(modelOptions(cfg, trainTask));
    optimizer = new AdamW(model.parameters(), groups, adamOpts);
    await fsp.rm(metricsPath, { force: true });
  }

  hooks.onStart?.({ model, trainSize: trainTask.n, testSize: testTask.n, stepsPerEpoch, resumedFromEpoch: resumedFrom });
  const params = model.parameters();
  const numClasses = trainTask.numClasses;
  const wall = () => priorWall + (Date.now() - t0) / 1000;
  const timeLimit = cfg.timeLimitMinutes !== undefined ? cfg.timeLimitMinutes * 60 : undefined;
  let outOfTime = false;

  try {
    for (let epoch = startEpoch; epoch < cfg.epochs; epoch++) {
      const batches = batchIndices(trainTask.n, cfg.bsz, { shuffle: true, seed: cfg.seed, epoch });
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      let lr = 0;
      for (let i = 0; i < batches.length && !outOfTime; i++) {
        const idx = batches[i];
        lr = schedule(Math.min(step, totalSteps - 1));
        positionDropout(model, step);
        const { x, y } = trainTask.makeBatch(idx);
        let correct: tf.Scalar | null = null;
        let value: tf.Scalar, grads: tf.NamedTensorMap;
        try {
          ({ value, grads } = tf.variableGrads(() => {
            const r = lossAndAccuracy(model.forward(x, { training: true, recompute: cfg.recompute }), y, numClasses);
            correct = tf.keep(r.correct);
            return r.loss;
          }, Object.values(params)));
        } catch (e) {
          throw explainOutOfMemory(e, cfg);
        }
        const named: Record<string, tf.Tensor> = {};
        for (const [name, v] of Object.entries(params)) named[name] = grads[v.name];
        const norm = optimizer.step(named, lr); // the gradient norm when clipping, else undefined
        const loss = (await value.data())[0];
        const acc = (await (correct as unknown as tf.Scalar).data())[0];
        const gradNorm = norm ? (await norm.data())[0] : undefined;
        tf.dispose([x, y, value, correct as unknown as tf.Scalar, ...Object.values(grads), ...(norm ? [norm] : [])]);
        if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at step ${step} (epoch ${epoch}); try a smaller lr (now ${cfg.lr}) or a clipNorm`);
        step++;
        lossSum += loss * idx.length;
        accSum += acc * idx.length;
        seen += idx.length;
        hooks.onStep?.({ epoch, stepInEpoch: i + 1, stepsPerEpoch: batches.length, step, loss, accuracy: acc, lr, gradNorm });
        if (timeLimit !== undefined && wall() >= timeLimit) outOfTime = true;
      }
      const ev = await evaluate(model, testTask, cfg.evalBsz);
      const record: EpochRecord = {
        epoch: epoch + 1,
        step,
        train_loss: lossSum / seen,
        train_accuracy: accSum / seen,
        test_loss: ev.loss,
        test_accuracy: ev.accuracy,
        lr,
        wall_s: wall(),
      };
      if (sequence) {
        record.test_nll = ev.loss;
        record.test_bits_per_dim = nllToBitsPerDim(ev.loss);
      }
      history.push(record);
      const metric = sequence ? ev.loss : ev.accuracy;
      const improved = sequence ? metric < best : metric > best;
      if (improved) best = metric;
      const meta = { epoch: epoch + 1, step, best, seed: cfg.seed, wall_s: record.wall_s, history };
      await fsp.appendFile(metricsPath, JSON.stringify(record) + "\n");
      await saveModelCheckpoint(lastPath, model, { training, optimizer, meta });
      if (improved) await saveModelCheckpoint(bestPath, model, { training, meta });
      hooks.onEpoch?.(record);
      if (outOfTime) break;
    }

    const lastRec = history[history.length - 1];
    const final = lastRec ?? (await evaluate(model, testTask, cfg.evalBsz).then((ev) => ({ test_loss: ev.loss, test_accuracy: ev.accuracy })));
    const summary: TrainSummary = {
      task: cfg.task,
      layer: cfg.layer,
      backend: currentBackend()?.name ?? tf.getBackend(),
      params: model.countParams(),
      epochs: cfg.epochs,
      steps: step,
      wall_s: wall(),
      test_loss: final.test_loss,
      test_accuracy: final.test_accuracy,
      best,
      out: cfg.out,
      resumed_from_epoch: resumedFrom,
      stopped_by_time_limit: outOfTime,
      config: cfg,
      history,
    };
    if (sequence) {
      summary.test_nll = final.test_loss;
      summary.test_bits_per_dim = nllToBitsPerDim(final.test_loss);
    }
    await writeJsonAtomic(path.join(cfg.out, "summary.json"), summary);
    return summary;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
