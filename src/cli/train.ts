/**
 * Trains a StackedModel on an MNIST task from the command line:
 *   npm run train -- --task mnist-classification --layer s4
 *   npm run train -- --preset annotated-s4-classification
 *   npm run train -- --quick
 * See `--help` for every flag. Exit status 2 on a bad command line, 1 when training fails.
 */
import * as path from "node:path";
import { chooseBackend, useBackend, BACKEND_ORDER } from "../backend";
import { TASK_NAMES, TaskName } from "../data";
import { LAYER_KINDS, LayerKind } from "../nn";
import { fit } from "../train/loop";
import type { TrainOptions } from "../train/train-options";
import { tierPreset } from "../train/presets";
import { CONFIGS_DIR, configNames, loadConfig } from "../train/configs";
import { SIZE_TIERS, SizeTier } from "../notebook/tier";
import { FlagError, FlagOptions, ParsedFlags, parseFlags } from "./flags";
import { makeProgress } from "./train-progress";
import { runMain } from "./run-main";

class UsageError extends Error {}

interface FlagSpec {
  key: string;
  kind: "int" | "float" | "string" | "bool";
  help: string;
  check?: (v: number) => string | null;
}

const positive = (v: number) => (v > 0 ? null : "a number > 0");
const nonNegative = (v: number) => (v >= 0 ? null : "a number >= 0");
const rate = (v: number) => (v >= 0 && v < 1 ? null : "a number in [0, 1)");

const FLAGS: Record<string, FlagSpec> = {
  "--task": { key: "task", kind: "string", help: `task: ${TASK_NAMES.join(" | ")} (default mnist-classification)` },
  "--layer": { key: "layer", kind: "string", help: `sequence layer: ${LAYER_KINDS.join(" | ")} (default s4d)` },
  "--epochs": { key: "epochs", kind: "int", help: "number of epochs (default 10)", check: positive },
  "--bsz": { key: "bsz", kind: "int", help: "batch size (default 64)", check: positive },
  "--d-model": { key: "dModel", kind: "int", help: "model width (default 64)", check: positive },
  "--n-layers": { key: "nLayers", kind: "int", help: "number of blocks (default 4)", check: positive },
  "--n": { key: "n", kind: "int", help: "SSM state size (default 64; mamba: 16)", check: positive },
  "--expand": { key: "expand", kind: "float", help: "mamba only: d_inner = expand · d_model (default 2)", check: positive },
  "--d-conv": { key: "dConv", kind: "int", help: "mamba only: width of the causal convolution (default 4)", check: positive },
  "--lr": { key: "lr", kind: "float", help: "peak learning rate of the one-cycle schedule (default 1e-2)", check: positive },
  "--weight-decay": {
    key: "weightDecay",
    kind: "float",
    help: "AdamW weight decay of non-SSM parameters (default 0.01)",
    check: nonNegative,
  },
  "--dropout": { key: "dropout", kind: "float", help: "dropout rate (default 0)", check: rate },
  "--seed": { key: "seed", kind: "int", help: "seed of initialization, batch order and dropout (default 0)" },
  "--clip-norm": {
    key: "clipNorm",
    kind: "float",
    help: "clip the global gradient norm to this value (default: no clipping)",
    check: positive,
  },
  "--conjugate-pairs": {
    key: "conjugatePairs",
    kind: "bool",
    help: "s4 only: store n/2 modes as conjugate pairs (as the official S4 code): about half the kernel's cost",
  },
  "--recompute": {
    key: "recompute",
    kind: "bool",
    help: "recompute each block's activations in the backward pass: less memory, one more forward pass",
  },
  "--time-limit": {
    key: "timeLimitMinutes",
    kind: "float",
    help: "stop training after this many minutes, then evaluate and save (default: none)",
    check: positive,
  },
  "--train-limit": { key: "trainLimit", kind: "int", help: "use only the first N training examples", check: positive },
  "--val-limit": {
    key: "valLimit",
    kind: "int",
    help: "use only the first N validation examples (of the 5 000 held out)",
    check: positive,
  },
  "--test-limit": { key: "testLimit", kind: "int", help: "use only the first N test examples", check: positive },
  "--log-every": {
    key: "logEvery",
    kind: "int",
    help: "read loss and accuracy back every N steps (default 1 on cpu/wasm, 50 on GPU backends)",
    check: positive,
  },
  "--backend": { key: "backend", kind: "string", help: `force a backend: ${BACKEND_ORDER.join(" | ")} (default: the best that works)` },
  "--out": { key: "out", kind: "string", help: "output folder (default runs/<task>-<layer>)" },
  "--resume": { key: "resume", kind: "bool", help: "continue from <out>/last if it exists" },
  "--preset": { key: "preset", kind: "string", help: "train a preset of configs/ (listed below); other flags override its values" },
  "--config": {
    key: "config",
    kind: "string",
    help: "train the options of a JSON file of the same form as configs/*.json; other flags override them",
  },
  "--quick": { key: "quick", kind: "bool", help: "small preset that trains in a few minutes on a laptop CPU (other flags override it)" },
  "--tier": {
    key: "tier",
    kind: "string",
    help: `the notebooks' configuration of a size tier: ${SIZE_TIERS.join(" | ")} (other flags override it)`,
  },
  "--dry-run": { key: "dryRun", kind: "bool", help: "print the training options as JSON and exit without training" },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

const DEFAULTS = {
  task: "mnist-classification",
  layer: "s4d",
  epochs: 10,
  bsz: 64,
  dModel: 64,
  nLayers: 4,
  n: 64,
  lr: 1e-2,
  dropout: 0,
  seed: 0,
};

/** The --quick presets: small enough to finish in under 3 minutes on 2 CPU cores with wasm, yet learn. */
export const QUICK_PRESETS: Record<TaskName, Record<string, number | string>> = {
  "mnist-classification": {
    layer: "s4d",
    epochs: 2,
    bsz: 32,
    dModel: 32,
    nLayers: 2,
    n: 8,
    lr: 1e-2,
    trainLimit: 2000,
    valLimit: 500,
    testLimit: 500,
  },
  mnist: { layer: "s4d", epochs: 1, bsz: 16, dModel: 16, nLayers: 1, n: 8, lr: 1e-2, trainLimit: 256, valLimit: 64, testLimit: 64 },
};

/**
 * What --layer mamba changes: its own defaults, and --quick presets sized for its cost (measured on
 * 2 shared cores with wasm: classification ≈ 2.5 min to ≈ 0.5 test accuracy; mnist ≈ 20 s).
 */
const MAMBA_DEFAULTS = { n: 16 };
export const QUICK_MAMBA_PRESETS: Record<TaskName, Record<string, number | string>> = {
  "mnist-classification": {
    layer: "mamba",
    epochs: 2,
    bsz: 32,
    dModel: 16,
    nLayers: 2,
    n: 4,
    lr: 3e-2,
    trainLimit: 2000,
    valLimit: 500,
    testLimit: 500,
  },
  mnist: { layer: "mamba", epochs: 1, bsz: 16, dModel: 16, nLayers: 1, n: 4, lr: 1e-2, trainLimit: 256, valLimit: 64, testLimit: 64 },
};

function usage(): string {
  const lines = ["Usage: npm run train -- [flags]", "", "Flags:"];
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const arg = spec.kind === "bool" ? "" : ` <${spec.kind === "string" ? "value" : spec.kind}>`;
    lines.push(`  ${(flag + arg).padEnd(24)} ${spec.help}`);
  }
  lines.push(
    "",
    "--preset, --config, --tier and --quick each give a whole configuration: give at most one of them.",
    `Presets (${path.relative(process.cwd(), CONFIGS_DIR) || "."}/<name>.json): ${configNames().join(", ")}`,
    "",
    "Writes <out>/metrics.jsonl, <out>/summary.json and checkpoints <out>/last and <out>/best.",
  );
  return lines.join("\n");
}

/** The table's flags as node:util parseArgs options: it splits the command line, the table types the values. */
const PARSE_OPTIONS: FlagOptions = Object.fromEntries(
  Object.entries(FLAGS).map(([flag, spec]) => [flag.slice(2), { type: spec.kind === "bool" ? "boolean" : "string" }]),
);

export function parseArgs(argv: string[]): Record<string, unknown> {
  let values: ParsedFlags["values"];
  try {
    ({ values } = parseFlags(argv, PARSE_OPTIONS));
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    if (e.problem === "missing-value") throw new UsageError(`flag ${e.flag} needs a value (${FLAGS[e.flag].help})`);
    if (e.problem === "unexpected-value") throw new UsageError(`flag ${e.flag} takes no value, got ${JSON.stringify(e.value)}`);
    throw new UsageError(`unknown flag ${JSON.stringify(e.flag)}; expected one of ${Object.keys(FLAGS).join(", ")}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const arg = `--${name}`;
    const spec = FLAGS[arg];
    if (spec.kind === "bool" || spec.kind === "string") {
      out[spec.key] = value;
      continue;
    }
    const raw = value as string;
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v) || (spec.kind === "int" && !Number.isInteger(v))) {
      throw new UsageError(`flag ${arg} must be ${spec.kind === "int" ? "an integer" : "a number"}, got ${JSON.stringify(raw)}`);
    }
    const bad = spec.check?.(v);
    if (bad) throw new UsageError(`flag ${arg} must be ${bad}, got ${JSON.stringify(raw)}`);
    out[spec.key] = v;
  }
  if (out.task !== undefined && !TASK_NAMES.includes(out.task as TaskName)) {
    throw new UsageError(`flag --task must be one of ${TASK_NAMES.join(", ")}, got ${JSON.stringify(out.task)}`);
  }
  if (out.layer !== undefined && !(LAYER_KINDS as readonly string[]).includes(out.layer as string)) {
    throw new UsageError(`flag --layer must be one of ${LAYER_KINDS.join(", ")}, got ${JSON.stringify(out.layer)}`);
  }
  if (out.tier !== undefined && !(SIZE_TIERS as readonly string[]).includes(out.tier as string)) {
    throw new UsageError(`flag --tier must be one of ${SIZE_TIERS.join(", ")}, got ${JSON.stringify(out.tier)}`);
  }
  const wholeConfigs = ["--preset", "--config", "--tier", "--quick"].filter((f) => out[FLAGS[f].key] !== undefined);
  if (wholeConfigs.length > 1)
    throw new UsageError(`flags ${wholeConfigs.join(" and ")} each give a whole configuration; give one of them`);
  if (out.backend !== undefined && !(BACKEND_ORDER as readonly string[]).includes(out.backend as string)) {
    throw new UsageError(`flag --backend must be one of ${BACKEND_ORDER.join(", ")}, got ${JSON.stringify(out.backend)}`);
  }
  return out;
}

/** The package root, where configs/ sits; a config file inside it is recorded relative to it. */
const PACKAGE_ROOT = path.dirname(CONFIGS_DIR);

function packagePath(file: string): string {
  const rel = path.relative(PACKAGE_ROOT, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel.split(path.sep).join("/");
}

/**
 * The training options of a parsed command line: the defaults, then one whole configuration
 * (--preset, --config, --tier or --quick), then every other flag given, which wins. A config's
 * mamba-only sizes (expand, dConv) are dropped when --layer swaps in another layer kind.
 */
export function trainOptions(args: Record<string, unknown>, argv: string[] = []): TrainOptions {
  const preset = args.preset as string | undefined;
  const configFile = args.config as string | undefined;
  if (preset !== undefined && /[\\/]|\.json$/.test(preset))
    throw new UsageError(
      `flag --preset takes a preset name (${configNames().join(", ")}), got ${JSON.stringify(preset)}; give a file with --config`,
    );
  const source = preset ?? configFile;
  let loaded: ReturnType<typeof loadConfig> | null = null;
  if (source !== undefined) {
    try {
      // A bare --config name is still a file in the working directory, never a preset.
      loaded = loadConfig(preset ?? (/[\\/]|\.json$/.test(source) ? source : `./${source}`));
    } catch (e) {
      throw new UsageError(
        `flag ${preset !== undefined ? "--preset" : "--config"}: ${e instanceof Error ? e.message.replace(/^loadConfig: /, "") : String(e)}`,
      );
    }
  }
  const fromFile: Record<string, unknown> = { ...(loaded?.options ?? {}) };
  const task = (args.task ?? fromFile.task ?? DEFAULTS.task) as TaskName;
  const layer = (args.layer ?? fromFile.layer ?? DEFAULTS.layer) as LayerKind;
  const mamba = layer === "mamba";
  if (!mamba) {
    delete fromFile.expand;
    delete fromFile.dConv;
  }
  if (layer !== "s4") delete fromFile.conjugatePairs;
  const whole = args.quick
    ? (mamba ? QUICK_MAMBA_PRESETS : QUICK_PRESETS)[task]
    : args.tier
      ? tierPreset(task, layer, args.tier as SizeTier)
      : fromFile;
  const merged: Record<string, unknown> = { ...DEFAULTS, ...(mamba ? MAMBA_DEFAULTS : {}), ...whole, ...args, task, layer };
  if (args.conjugatePairs !== undefined && layer !== "s4")
    throw new UsageError(`flag --conjugate-pairs applies to --layer s4 only, got --layer ${layer}`);
  for (const flag of ["--expand", "--d-conv"]) {
    if (args[FLAGS[flag].key] !== undefined && !mamba)
      throw new UsageError(
        `flag ${flag} applies to --layer mamba only, got --layer ${args.layer ?? (loaded ? `${layer} (from ${source})` : `${layer} (the default)`)}`,
      );
  }
  return {
    task,
    layer,
    epochs: merged.epochs as number,
    bsz: merged.bsz as number,
    dModel: merged.dModel as number,
    nLayers: merged.nLayers as number,
    n: merged.n as number,
    lr: merged.lr as number,
    weightDecay: merged.weightDecay as number | undefined,
    ssmLrScale: merged.ssmLrScale as number | undefined,
    expand: merged.expand as number | undefined,
    dConv: merged.dConv as number | undefined,
    dropout: merged.dropout as number,
    prenorm: merged.prenorm as boolean | undefined,
    clipNorm: merged.clipNorm as number | undefined,
    recompute: Boolean(merged.recompute),
    ...(layer === "s4" && merged.conjugatePairs ? { conjugatePairs: true } : {}),
    timeLimitMinutes: merged.timeLimitMinutes as number | undefined,
    seed: merged.seed as number,
    trainLimit: merged.trainLimit as number | undefined,
    valLimit: merged.valLimit as number | undefined,
    testLimit: merged.testLimit as number | undefined,
    evalBsz: merged.evalBsz as number | undefined,
    logEvery: merged.logEvery as number | undefined,
    out: merged.out as string | undefined,
    resume: Boolean(merged.resume),
    command: ["npm run train --", ...argv].join(" "),
    ...(preset !== undefined && loaded ? { preset: loaded.name } : {}),
    ...(loaded ? { configFile: packagePath(loaded.file) } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  let args: Record<string, unknown>;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`train: ${e.message}\nRun with --help for the list of flags.\n`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(usage() + "\n");
    return 0;
  }
  let opts: TrainOptions;
  try {
    opts = trainOptions(args, argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`train: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args.dryRun) {
    process.stdout.write(JSON.stringify(opts, null, 2) + "\n");
    return 0;
  }
  const task = opts.task;
  const backend = args.backend ? await useBackend(args.backend as string, { quiet: true }) : await chooseBackend({ quiet: true });
  process.stdout.write(`backend: ${backend.name} (${backend.reason})\n`);
  const progress = makeProgress(process.stdout);
  let summary: Awaited<ReturnType<typeof fit>>;
  try {
    summary = await fit(opts, {
      onStart: ({ model, trainSize, valSize, testSize, stepsPerEpoch, resumedFromEpoch }) => {
        const mambaSizes = opts.layer === "mamba" ? ` expand ${model.opts.expand} dConv ${model.opts.dConv}` : "";
        const sizes = `dModel ${opts.dModel} nLayers ${opts.nLayers} n ${opts.n}${mambaSizes}`;
        process.stdout.write(`model: ${opts.layer} ${sizes}, ${model.countParams()} params\n`);
        const splits = `${trainSize} train / ${valSize} validation / ${testSize} test examples`;
        process.stdout.write(`data: ${task}, ${splits}, ${stepsPerEpoch} steps per epoch of ${opts.bsz}\n`);
        if (resumedFromEpoch !== null) process.stdout.write(`resumed after epoch ${resumedFromEpoch}\n`);
        progress.start();
      },
      onStep: progress.onStep,
      onEpoch: progress.onEpoch,
    });
  } finally {
    progress.stop();
  }
  const final =
    summary.test_bits_per_dim !== undefined
      ? `test nll ${summary.test_nll!.toFixed(4)} nats, ${summary.test_bits_per_dim.toFixed(4)} bits/dim`
      : `test accuracy ${summary.test_accuracy.toFixed(4)}`;
  process.stdout.write(
    `best checkpoint: epoch ${summary.best_epoch} (chosen on validation); test split (${summary.test_examples} examples) evaluated once on it\n`,
  );
  const early = summary.stopped_by_time_limit ? ` (stopped by --time-limit after ${summary.steps} steps)` : "";
  process.stdout.write(`done in ${summary.wall_s.toFixed(1)}s${early}: ${final}; wrote ${summary.out}/summary.json\n`);
  return 0;
}

if (require.main === module) {
  runMain("train", () => main(process.argv.slice(2)));
}
