/**
 * The configuration of a training run: the options `fit()` takes, checked (a bad value fails
 * naming the option and what it must be) and with every default filled in.
 */
import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import { TaskName, TASK_NAMES } from "../data";
import { LAYER_KINDS, LayerKind } from "../nn";

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

type OptionalKeys = "clipNorm" | "trainLimit" | "valLimit" | "testLimit" | "expand" | "dConv" | "conjugatePairs" | "timeLimitMinutes";
/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<TrainOptions, OptionalKeys | "resume" | "command" | "preset" | "configFile">> &
  Pick<TrainOptions, OptionalKeys>;

function fail(name: string, value: unknown, expected: string): never {
  throw new Error(`train: ${name} must be ${expected}, got ${JSON.stringify(value)}`);
}

function posInt(name: string, v: unknown): number {
  if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) fail(name, v, "a positive integer");
  return v as number;
}

/** The options checked, with the defaults filled in; throws naming the first bad option. */
export function resolveOptions(opts: TrainOptions): ResolvedOptions {
  if (typeof opts !== "object" || opts === null) fail("options", opts, "an object");
  if (!TASK_NAMES.includes(opts.task)) fail("task", opts.task, `one of ${TASK_NAMES.join(", ")}`);
  if (!LAYER_KINDS.includes(opts.layer)) fail("layer", opts.layer, `one of ${LAYER_KINDS.join(", ")}`);
  for (const k of ["epochs", "bsz", "dModel", "nLayers", "n"] as const) posInt(k, opts[k]);
  const mamba = opts.layer === "mamba";
  for (const k of ["expand", "dConv"] as const)
    if (!mamba && opts[k] !== undefined) fail(k, opts[k], `unset unless layer is mamba (layer is ${opts.layer})`);
  const expand = mamba ? (opts.expand ?? 2) : undefined;
  if (mamba && !(typeof expand === "number" && expand > 0 && Number.isInteger(expand * opts.dModel)))
    fail("expand", expand, "a number > 0 with expand · dModel an integer");
  const dConv = mamba ? posInt("dConv", opts.dConv ?? 4) : undefined;
  if (opts.conjugatePairs !== undefined && opts.conjugatePairs !== false && opts.layer !== "s4")
    fail("conjugatePairs", opts.conjugatePairs, `unset unless layer is s4 (layer is ${opts.layer})`);
  if (opts.conjugatePairs !== undefined && typeof opts.conjugatePairs !== "boolean")
    fail("conjugatePairs", opts.conjugatePairs, "true or false");
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
  if (opts.clipNorm !== undefined && !(Number.isFinite(opts.clipNorm) && opts.clipNorm > 0))
    fail("clipNorm", opts.clipNorm, "a number > 0");
  if (opts.timeLimitMinutes !== undefined && !(Number.isFinite(opts.timeLimitMinutes) && opts.timeLimitMinutes > 0))
    fail("timeLimitMinutes", opts.timeLimitMinutes, "a number > 0");
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
