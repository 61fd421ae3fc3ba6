/**
 * npm run bench -- --step --preset NAME [--backend webgpu|wasm|cpu] [--bsz N] [--steps N] [--json FILE]
 *
 * Measures whole training steps of a preset (configs/NAME.json) as the training loop runs them:
 * make the batch from MNIST, trainStep (forward, gradients, AdamW), then ONE read of the step's
 * loss and accuracy. Per step it counts the tfjs kernels (as tf.profile lists them), the GPU
 * programs dispatched (webgpu), the uploads from the host and their bytes, the shape-uniform
 * bytes (webgpu), the read-backs and their bytes and the host syncs (src/train/step-counters.ts);
 * and it times the median of warm steps. The counts are deterministic: two counted steps must
 * agree, and the output says whether they did. Prints one row per backend and writes JSON
 * (default build/bench-step.json) with the kernel histogram, the sizes and where it ran.
 */
import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import { BackendName, chooseBackend, useBackend } from "../backend";
import { batchIndices, makeTask, Task, TaskBatch } from "../data";
import { StackedModel, StackedModelOptions } from "../nn";
import { AdamW } from "../train/adamw";
import { ConfigOptions, configNames, loadConfig, LoadedConfig } from "../train/configs";
import { DeviceLog } from "../train/device-log";
import { paramGroupsFor } from "../train/run-state";
import { RunInfo, runInfo } from "../train/run-info";
import { oneCycleCosine } from "../train/schedule";
import { countDeviceTraffic, countKernels, DeviceTraffic, KernelCounts, topCounts } from "../train/step-counters";
import { trainStep } from "../train/step";
import { MIN_WARM_RUNS, textTable, writeJsonAtomic } from "./bench-timing";
import { FlagError, ParsedFlags, commaList, parseFlags } from "./flags";
import { median } from "../notebook/timing";

/** Backends whose traffic the step counters understand. */
const STEP_BACKENDS = ["webgpu", "wasm", "cpu"] as const;
type StepBackend = (typeof STEP_BACKENDS)[number];

/** Steps counted (and compared) per kind of count. */
const COUNTED_STEPS = 2;
/** Kernel names kept in the JSON's histogram. */
const HISTOGRAM_TOP = 15;

const USAGE = `usage: npm run bench -- --step --preset NAME [options]
  --preset NAME      a preset of configs/ (${configNames().join(", ")}) or a .json config file
  --backend NAME     ${STEP_BACKENDS.join(", ")} (repeatable, or a comma list); default: the backend
                     training would pick among them
  --bsz N            batch size (default: the preset's)
  --d-model N, --n-layers N, --n N
                     override the preset's sizes (e.g. to keep a cpu run short)
  --recompute        recompute block activations in the backward pass, as training --recompute
  --conjugate-pairs  s4 only: n/2 modes stored as conjugate pairs, as training --conjugate-pairs
  --dropout X        override the preset's dropout rate
  --steps N          timed warm steps (default and least ${MIN_WARM_RUNS})
  --warmup N         untimed steps first, 1 or 2 (default 2)
  --json FILE        where to write the results (default build/bench-step.json)`;

class UsageError extends Error {}

export interface StepBenchOptions {
  preset: string;
  backends: StepBackend[] | null;
  bsz?: number;
  dModel?: number;
  nLayers?: number;
  n?: number;
  recompute: boolean;
  conjugatePairs?: boolean;
  dropout?: number;
  steps: number;
  warmup: number;
  json: string;
}

function parseStepArgs(argv: string[]): StepBenchOptions | "help" {
  let values: ParsedFlags["values"];
  try {
    ({ values } = parseFlags(argv, {
      preset: { type: "string" },
      backend: { type: "string", multiple: true },
      bsz: { type: "string" },
      "d-model": { type: "string" },
      "n-layers": { type: "string" },
      n: { type: "string" },
      steps: { type: "string" },
      warmup: { type: "string" },
      json: { type: "string" },
      recompute: { type: "boolean" },
      "conjugate-pairs": { type: "boolean" },
      dropout: { type: "string" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (e) {
    throw e instanceof FlagError ? new UsageError(e.message) : e;
  }
  if (values.help) return "help";
  const int = (name: string, least: number, most = Infinity): number | undefined => {
    const raw = values[name] as string | undefined;
    if (raw === undefined) return undefined;
    const v = Number(raw);
    if (!(raw.trim() !== "" && Number.isInteger(v) && v >= least && v <= most)) {
      throw new UsageError(`--${name} must be an integer ${most === Infinity ? `>= ${least}` : `from ${least} to ${most}`}, got "${raw}"`);
    }
    return v;
  };
  const backends: StepBackend[] = [];
  for (const b of commaList(values.backend)) {
    if (!(STEP_BACKENDS as readonly string[]).includes(b)) {
      throw new UsageError(`--backend: "${b}" is not one of ${STEP_BACKENDS.join(", ")}`);
    }
    if (!backends.includes(b as StepBackend)) backends.push(b as StepBackend);
  }
  let dropout: number | undefined;
  if (values.dropout !== undefined) {
    const raw = values.dropout as string,
      v = Number(raw);
    if (!(raw.trim() !== "" && Number.isFinite(v) && v >= 0 && v < 1)) {
      throw new UsageError(`--dropout must be a number in [0, 1), got "${raw}"`);
    }
    dropout = v;
  }
  const opts: StepBenchOptions = {
    preset: values.preset as string,
    backends: backends.length ? backends : null,
    bsz: int("bsz", 1),
    dModel: int("d-model", 1),
    nLayers: int("n-layers", 1),
    n: int("n", 1),
    recompute: Boolean(values.recompute),
    conjugatePairs: values["conjugate-pairs"] ? true : undefined,
    dropout,
    steps: int("steps", MIN_WARM_RUNS) ?? MIN_WARM_RUNS,
    warmup: int("warmup", 1, 2) ?? 2,
    json: (values.json as string | undefined) ?? path.join("build", "bench-step.json"),
  };
  if (opts.preset === undefined) throw new UsageError("--preset is required");
  return opts;
}

// ---- The step under measurement ---------------------------------------------------------------

/** The preset's options with the command line's overrides. */
interface StepSizes {
  task: ConfigOptions["task"];
  layer: ConfigOptions["layer"];
  bsz: number;
  dModel: number;
  nLayers: number;
  n: number;
  l: number;
  expand?: number;
  dConv?: number;
  conjugatePairs?: boolean;
  dropout?: number;
  prenorm?: boolean;
  recompute: boolean;
  lr: number;
  weightDecay?: number;
  ssmLrScale?: number;
  clipNorm?: number;
  seed?: number;
  params?: number;
}

function resolveSizes(cfg: LoadedConfig, opts: StepBenchOptions, task: Task): StepSizes {
  const o = cfg.options;
  const pick = (flag: number | undefined, preset: number | undefined, name: string): number => {
    const v = flag ?? preset;
    if (v === undefined) throw new UsageError(`preset ${cfg.name} sets no ${name}; give it on the command line`);
    return v;
  };
  const bsz = pick(opts.bsz, o.bsz, "bsz");
  if (bsz > task.n) throw new UsageError(`--bsz ${bsz} is larger than the training split (${task.n} examples)`);
  const sizes: StepSizes = {
    task: o.task,
    layer: o.layer,
    bsz,
    dModel: pick(opts.dModel, o.dModel, "dModel"),
    nLayers: pick(opts.nLayers, o.nLayers, "nLayers"),
    n: pick(opts.n, o.n, "n"),
    l: task.seqLen,
    expand: o.expand,
    dConv: o.dConv,
    dropout: opts.dropout ?? o.dropout,
    prenorm: o.prenorm,
    conjugatePairs: opts.conjugatePairs || o.conjugatePairs || undefined,
    recompute: opts.recompute || (o.recompute ?? false),
    lr: pick(undefined, o.lr, "lr"),
    weightDecay: o.weightDecay,
    ssmLrScale: o.ssmLrScale,
    clipNorm: o.clipNorm,
    seed: o.seed,
  };
  // Unset options stay unset, so that the model and optimizer keep their defaults (training's).
  return Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)) as unknown as StepSizes;
}

/** The model a training run of these sizes starts from (unset options keep StackedModel's defaults, which are training's). */
function buildModel(s: StepSizes, task: Task): StackedModel {
  const opts: StackedModelOptions = {
    task: s.task === "mnist" ? "sequence" : "classification",
    layerKind: s.layer,
    dModel: s.dModel,
    nLayers: s.nLayers,
    n: s.n,
    l: task.seqLen,
    numClasses: task.numClasses,
    embedding: task.inputKind === "tokens",
  };
  if (s.conjugatePairs && s.layer !== "s4") throw new UsageError(`--conjugate-pairs applies to s4 presets only, got layer ${s.layer}`);
  for (const k of ["prenorm", "dropout", "expand", "dConv", "conjugatePairs", "seed"] as const)
    if (s[k] !== undefined) (opts as unknown as Record<string, unknown>)[k] = s[k];
  return new StackedModel(opts);
}

/** One training step as the loop runs it, with its single read; `beforeRead` marks the moment before the read. */
interface StepRunner {
  run(beforeRead?: () => void): Promise<{ loss: number; accuracy: number }>;
  dispose(): void;
  params: number;
}

function stepRunner(s: StepSizes, task: Task): StepRunner {
  const batches = batchIndices(task.n, s.bsz, { shuffle: true, seed: s.seed ?? 0, epoch: 0, dropLast: true });
  // The rate follows one epoch of the schedule: its value does not change what a step runs.
  const schedule = oneCycleCosine({ maxLr: s.lr, totalSteps: Math.max(2, batches.length) });
  const model = buildModel(s, task);
  let optimizer: AdamW;
  try {
    optimizer = new AdamW(model.parameters(), paramGroupsFor(s.layer, s.ssmLrScale), {
      lr: s.lr,
      weightDecay: s.weightDecay,
      clipNorm: s.clipNorm,
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  let step = 0;
  return {
    params: model.countParams(),
    async run(beforeRead) {
      const k = step++;
      const lr = schedule(Math.min(k, batches.length - 1));
      const batch: TaskBatch = task.makeBatch(batches[k % batches.length]);
      let out;
      try {
        out = trainStep(model, optimizer, batch, task.numClasses, k, lr, { recompute: s.recompute });
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
      const log = new DeviceLog();
      try {
        log.push([out.loss, out.accuracy, ...(out.gradNorm ? [out.gradNorm] : [])], s.bsz);
        beforeRead?.();
        const { values } = await log.read();
        return { loss: values[0][0], accuracy: values[0][1] };
      } finally {
        log.dispose();
      }
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

// ---- Measuring one backend ----------------------------------------------------------------------

export interface StepBenchResult {
  backend: StepBackend;
  /** What ran the math (the WebGPU adapter, or the processor). */
  device: string;
  /** tfjs kernels per step, as tf.profile lists them, with the final read and before it. */
  kernels: number;
  kernels_before_read: number;
  /** The most frequent kernels of one step. */
  kernel_histogram: { name: string; count: number }[];
  /** Where the time of one (profiled) step goes: the kernels that took longest, summed by name. */
  kernel_time_ms: { name: string; count: number; ms: number }[];
  /** The time of all kernels of that step; the rest of a step is tfjs's bookkeeping (tape, scopes). */
  kernel_time_total_ms: number;
  /** Device traffic of one step, the final read included, and up to the read. */
  traffic: DeviceTraffic;
  traffic_before_read: DeviceTraffic;
  /** True when every counted step gave the same counts (they should: nothing in them depends on time). */
  deterministic: boolean;
  /** The counts of each counted step, for the comparison. */
  counted_steps: { kernels: KernelCounts[]; traffic: DeviceTraffic[] };
  warmup_steps: number;
  median_step_ms: number;
  warm_runs: number;
  step_ms: number[];
  /** Loss and accuracy of the last timed step (a sanity check that the step trained). */
  last_loss: number;
  last_accuracy: number;
  /** Tensors left behind once the model and optimizer were disposed (0 expected). */
  leaked_tensors: number;
  run: RunInfo;
}

/** The counts and times of one runner's steps: warm-up, counted steps, then timed steps. */
async function measureSteps(runner: StepRunner, opts: StepBenchOptions) {
  for (let i = 0; i < opts.warmup; i++) await runner.run();

  const traffic: DeviceTraffic[] = [];
  const trafficBeforeRead: DeviceTraffic[] = [];
  for (let i = 0; i < COUNTED_STEPS; i++) {
    const counted = await countDeviceTraffic((counter) => runner.run(() => trafficBeforeRead.push(counter.snapshot())));
    traffic.push(counted.traffic);
  }
  // Profiling changes how a GPU backend batches its work: kernels are counted in steps of their own.
  const kernels: KernelCounts[] = [];
  const kernelsBeforeRead: number[] = [];
  let msByName: Record<string, number> = {};
  for (let i = 0; i < COUNTED_STEPS; i++) {
    const counted = await countKernels((soFar) => runner.run(() => kernelsBeforeRead.push(soFar())));
    kernels.push(counted.counts);
    msByName = counted.ms_by_name; // the last counted step: the warmest
  }
  const kernelTimes = Object.entries(msByName)
    .map(([name, ms]) => ({ name, count: kernels[kernels.length - 1].by_name[name], ms: Math.round(ms * 100) / 100 }))
    .sort((a, b) => b.ms - a.ms);
  const same = (xs: unknown[]) => xs.every((x) => JSON.stringify(x) === JSON.stringify(xs[0]));

  const stepMs: number[] = [];
  let last = { loss: NaN, accuracy: NaN };
  for (let i = 0; i < opts.steps; i++) {
    const t0 = performance.now();
    last = await runner.run();
    stepMs.push(performance.now() - t0);
  }
  return {
    kernels: kernels[0].kernels,
    kernels_before_read: kernelsBeforeRead[0],
    kernel_histogram: topCounts(kernels[0].by_name, HISTOGRAM_TOP),
    kernel_time_ms: kernelTimes.slice(0, HISTOGRAM_TOP),
    kernel_time_total_ms: Math.round(kernelTimes.reduce((a, k) => a + k.ms, 0) * 100) / 100,
    traffic: traffic[0],
    traffic_before_read: trafficBeforeRead[0],
    deterministic: same(traffic) && same(trafficBeforeRead) && same(kernels) && same(kernelsBeforeRead),
    counted_steps: { kernels, traffic },
    warmup_steps: opts.warmup,
    median_step_ms: median(stepMs),
    warm_runs: stepMs.length,
    step_ms: stepMs,
    last_loss: last.loss,
    last_accuracy: last.accuracy,
  };
}

async function measureBackend(backend: StepBackend, sizes: StepSizes, task: Task, opts: StepBenchOptions): Promise<StepBenchResult> {
  await useBackend(backend, { quiet: true });
  const run = await runInfo();
  const tensorsBefore = tf.memory().numTensors;
  const runner = stepRunner(sizes, task);
  sizes.params = runner.params;
  let measured;
  try {
    measured = await measureSteps(runner, opts);
  } finally {
    runner.dispose();
  }
  return { backend, device: run.device, ...measured, leaked_tensors: tf.memory().numTensors - tensorsBefore, run };
}

// ---- Output ---------------------------------------------------------------------------------------

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const orDash = (v: number | null) => (v === null ? "-" : String(v));

function table(results: StepBenchResult[]): string {
  const head = [
    "backend",
    "kernels",
    "GPU programs",
    "uploads",
    "upload bytes",
    "uniform bytes",
    "read-backs",
    "read-back bytes",
    "syncs",
    "median step ms",
    "warm runs",
  ];
  const rows = results.map((r) => [
    r.backend,
    r.kernels,
    orDash(r.traffic.programs),
    r.traffic.uploads,
    r.traffic.upload_bytes,
    orDash(r.traffic.uniform_bytes),
    r.traffic.readbacks,
    r.traffic.readback_bytes,
    r.traffic.syncs,
    fmtMs(r.median_step_ms),
    r.warm_runs,
  ]);
  return textTable(head, rows, 1);
}

function describeRead(r: StepBenchResult): string {
  const t = r.traffic,
    b = r.traffic_before_read;
  const parts = [`${r.kernels - r.kernels_before_read} kernel(s)`];
  if (t.programs !== null && b.programs !== null) parts.push(`${t.programs - b.programs} GPU program(s)`);
  parts.push(`${t.readbacks - b.readbacks} read-back(s) of ${t.readback_bytes - b.readback_bytes} bytes`, `${t.syncs - b.syncs} sync(s)`);
  return (
    `${r.backend}: the final read adds ${parts.join(", ")}; before it the step ran ${r.kernels_before_read} kernels` +
    (b.programs !== null ? `, ${b.programs} GPU programs` : "") +
    ` and uploaded ${b.uploads} tensors (${b.upload_bytes} bytes)`
  );
}

// ---- Main -----------------------------------------------------------------------------------------

/** Runs `npm run bench -- --step …` with the arguments after --step; returns the exit status. */
export async function benchStep(argv: string[]): Promise<number> {
  let opts: StepBenchOptions;
  let cfg: LoadedConfig;
  try {
    const parsed = parseStepArgs(argv);
    if (parsed === "help") {
      console.log(USAGE);
      return 0;
    }
    opts = parsed;
    try {
      cfg = loadConfig(opts.preset);
    } catch (e) {
      throw new UsageError(`--preset: ${e instanceof Error ? e.message.replace(/^loadConfig: /, "") : String(e)}`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench --step: ${e.message}\n${USAGE}`);
    return 2;
  }
  const started = new Date();
  const task = makeTask(cfg.options.task, "train", { limit: cfg.options.trainLimit });
  let sizes: StepSizes;
  try {
    sizes = resolveSizes(cfg, opts, task);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench --step: ${e.message}`);
    return 2;
  }
  let backends = opts.backends;
  if (!backends) backends = [(await chooseBackend({ quiet: true, order: STEP_BACKENDS as unknown as BackendName[] })).name as StepBackend];

  const results: StepBenchResult[] = [];
  const doc = () => ({
    what: "whole training steps: make the batch, trainStep (forward, gradients, AdamW), then one read of loss and accuracy",
    counts_note:
      "the counts are deterministic (they do not depend on timing) and include the final read; *_before_read stop just before it",
    preset: cfg.name,
    config_file: path.relative(process.cwd(), cfg.file) || cfg.file,
    command: `npm run bench -- --step ${argv.join(" ")}`,
    sizes,
    counted_steps: COUNTED_STEPS,
    results,
    node: process.version,
    tfjs: tf.version_core,
    date: started.toISOString(),
  });
  for (const backend of backends) {
    process.stderr.write(`bench --step: ${cfg.name} on ${backend} (bsz ${sizes.bsz}) … `);
    const t0 = performance.now();
    const r = await measureBackend(backend, sizes, task, opts);
    if (r.leaked_tensors !== 0) process.stderr.write(`${r.leaked_tensors} tensor(s) left behind … `);
    results.push(r);
    process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    writeJsonAtomic(opts.json, doc()); // kept current, so an interrupted run keeps what it measured
  }
  writeJsonAtomic(opts.json, doc());

  console.log(
    `${cfg.name}: ${sizes.task}, ${sizes.layer}, bsz ${sizes.bsz}, d_model ${sizes.dModel}, ${sizes.nLayers} layers, N ${sizes.n}, L ${sizes.l}` +
      `${sizes.recompute ? ", recompute" : ""}${sizes.conjugatePairs ? ", conjugate pairs" : ""}, dropout ${sizes.dropout ?? 0}; ${sizes.params} parameters`,
  );
  console.log(table(results));
  console.log(
    [
      "",
      "Counts per training step (make the batch, trainStep, one read of loss and accuracy), the read included.",
      "kernels: tfjs kernel invocations (tf.profile); GPU programs: compute dispatches (webgpu only);",
      "uploads: tensors copied from host arrays to the backend and their bytes; uniform bytes: the shape",
      "uniforms every webgpu dispatch writes; read-backs: buffers copied back to the host; syncs: reads that",
      `waited for the device. Median step ms: ${opts.warmup} warm-up step(s), then the median of the warm runs.`,
    ].join("\n"),
  );
  for (const r of results) console.log(describeRead(r));
  for (const r of results) {
    console.log(
      r.deterministic
        ? `${r.backend}: counts are deterministic: identical in ${COUNTED_STEPS} counted steps`
        : `${r.backend}: WARNING: the ${COUNTED_STEPS} counted steps gave different counts (see counted_steps in the JSON)`,
    );
    console.log(`${r.backend}: device ${r.device}`);
  }
  for (const r of results) {
    // Where the time goes (one profiled step): the kernels that took longest, and the rest.
    const rows = r.kernel_time_ms.map((k) => [k.name, k.count, fmtMs(k.ms), `${((100 * k.ms) / r.median_step_ms).toFixed(1)} %`]);
    rows.push([
      "(all kernels)",
      r.kernels,
      fmtMs(r.kernel_time_total_ms),
      `${((100 * r.kernel_time_total_ms) / r.median_step_ms).toFixed(1)} %`,
    ]);
    console.log(`\n${r.backend}: where one step's time goes (kernel times from tf.profile, share of the median step)`);
    console.log(textTable(["kernel", "calls", "ms", "share"], rows, 1));
  }
  console.log(`results in ${opts.json}`);
  return results.every((r) => r.deterministic && r.leaked_tensors === 0) ? 0 : 1;
}
