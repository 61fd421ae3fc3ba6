/**
 * Training configurations per size tier (see src/notebook/tier.ts), shared by the training
 * notebooks and `npm run train -- --tier`, so that a notebook run and a command-line run of the
 * same tier train the same thing:
 * - quick: a few steps that prove the pipeline works (CI); the numbers mean nothing.
 * - cpu: sized so that one run, its evaluations included, ends within about 20 minutes on two CPU
 *   cores with wasm, and still gives a real result (steps from measured rates, see docs/results.md).
 * - gpu: exactly the preset files in configs/ (configs.ts): The Annotated S4's MNIST runs
 *   (annotated-s4-classification, annotated-s4-sequence) and their Mamba counterparts of about the
 *   same parameter count (mamba-classification, mamba-sequence), meant for a GPU.
 * Every tier has a time limit, so a slower machine stops on time instead of running over.
 */
import * as path from "node:path";
import { TaskName, VALIDATION_SIZE } from "../data";
import type { LayerKind } from "../nn";
import { SIZE_TIERS, SizeTier } from "../notebook/tier";
import type { TrainOptions } from "./train-options";
import { loadConfig } from "./configs";

export type TierPreset = Omit<TrainOptions, "out" | "resume" | "command" | "preset" | "configFile">;

/** MNIST's training images left after the validation split, and its test images. */
const TRAIN_IMAGES = 60000 - VALIDATION_SIZE;
const TEST_IMAGES = 10000;

type Sizes = Omit<TierPreset, "task" | "layer">;
type ReducedTier = Exclude<SizeTier, "gpu">;

/** The gpu tier's preset files per task (S4 and S4D share the S4 preset) and its time limit. */
const GPU_PRESETS: Record<"mnist-classification" | "mnist", { s4: string; mamba: string }> = {
  "mnist-classification": { s4: "annotated-s4-classification", mamba: "mamba-classification" },
  mnist: { s4: "annotated-s4-sequence", mamba: "mamba-sequence" },
};
const GPU_TIME_LIMIT_MINUTES = 180;
/**
 * Epochs of the gpu tier where the preset's own run is longer than a notebook sitting: the
 * sequence presets train for 100 epochs, and a run cut short by the time limit would stop inside
 * the one-cycle warm-up. 10 epochs let the schedule finish. `npm run train -- --preset` runs all 100.
 */
const GPU_TIER_EPOCHS: Partial<Record<TaskName, number>> = { mnist: 10 };

/** S4 and S4D share sizes; Mamba gets a width of about the same parameter count. */
const CLASSIFICATION: Record<ReducedTier, { s4: Sizes; mamba: Sizes }> = {
  quick: {
    s4: { dModel: 16, nLayers: 2, n: 8, bsz: 16, lr: 1e-2, epochs: 1, trainLimit: 256, valLimit: 128, testLimit: 128, timeLimitMinutes: 3 },
    mamba: {
      dModel: 16,
      nLayers: 2,
      n: 4,
      bsz: 16,
      lr: 1e-2,
      epochs: 1,
      trainLimit: 256,
      valLimit: 128,
      testLimit: 128,
      timeLimitMinutes: 3,
    },
  },
  cpu: {
    // 760 steps at ≈ 1.22 s, then 1 000 validation and all 10 000 test images: ≈ 18 minutes.
    s4: { dModel: 32, nLayers: 4, n: 64, bsz: 32, lr: 1e-2, epochs: 1, trainLimit: 24320, valLimit: 1000, timeLimitMinutes: 16.5 },
    // ≈ 2 s per step measured: 400 steps in about 13 minutes.
    mamba: {
      dModel: 32,
      nLayers: 2,
      n: 8,
      bsz: 32,
      lr: 1e-2,
      epochs: 1,
      trainLimit: 12800,
      valLimit: 500,
      testLimit: 2000,
      timeLimitMinutes: 15,
    },
  },
};

const SEQUENCE: Record<ReducedTier, { s4: Sizes; mamba: Sizes }> = {
  quick: {
    s4: { dModel: 16, nLayers: 1, n: 8, bsz: 16, lr: 1e-2, epochs: 1, trainLimit: 64, valLimit: 32, testLimit: 32, timeLimitMinutes: 3 },
    mamba: { dModel: 16, nLayers: 1, n: 4, bsz: 16, lr: 1e-2, epochs: 1, trainLimit: 64, valLimit: 32, testLimit: 32, timeLimitMinutes: 3 },
  },
  cpu: {
    // 640 steps at ≈ 1.2 s, then 500 validation and all 10 000 test images: ≈ 18 minutes.
    s4: { dModel: 32, nLayers: 4, n: 64, bsz: 16, lr: 1e-2, epochs: 1, trainLimit: 10240, valLimit: 500, timeLimitMinutes: 14 },
    // ≈ 1 s per step measured: 600 steps in about 10 minutes.
    mamba: {
      dModel: 32,
      nLayers: 2,
      n: 8,
      bsz: 16,
      lr: 1e-2,
      epochs: 1,
      trainLimit: 9600,
      valLimit: 500,
      testLimit: 2000,
      timeLimitMinutes: 15,
    },
  },
};

/** The training configuration of a task, layer and size tier (add `out` to train it). */
export function tierPreset(task: TaskName, layer: LayerKind, tier: SizeTier): TierPreset {
  const table = task === "mnist-classification" ? CLASSIFICATION : task === "mnist" ? SEQUENCE : undefined;
  if (!table) throw new Error(`tierPreset: task must be "mnist-classification" or "mnist", got ${JSON.stringify(task)}`);
  if (!["s4", "s4d", "mamba"].includes(layer))
    throw new Error(`tierPreset: layer must be "s4", "s4d" or "mamba", got ${JSON.stringify(layer)}`);
  if (!(SIZE_TIERS as readonly string[]).includes(tier))
    throw new Error(`tierPreset: tier must be one of ${SIZE_TIERS.join(", ")}, got ${JSON.stringify(tier)}`);
  const kind = layer === "mamba" ? "mamba" : "s4";
  if (tier === "gpu") {
    const { name, options } = loadConfig(GPU_PRESETS[task as "mnist" | "mnist-classification"][kind]);
    const missing = (["epochs", "bsz", "dModel", "nLayers", "n", "lr"] as const).filter((k) => options[k] === undefined);
    if (missing.length > 0)
      throw new Error(`tierPreset: the gpu tier's preset ${name} (configs/${name}.json) must set ${missing.join(", ")}`);
    // The preset's own layer is s4 or mamba; s4d trains the S4 preset with its layer swapped.
    return {
      ...(options as TierPreset),
      task,
      layer,
      epochs: GPU_TIER_EPOCHS[task] ?? (options.epochs as number),
      timeLimitMinutes: GPU_TIME_LIMIT_MINUTES,
    };
  }
  return { task, layer, ...table[tier][kind] };
}

/**
 * The small trained S4 model committed with the repository for a task (its run record is under
 * docs/runs/): the path to pass to loadModelCheckpoint.
 */
export function shippedCheckpoint(task: TaskName): string {
  if (task !== "mnist-classification" && task !== "mnist") {
    throw new Error(`shippedCheckpoint: task must be "mnist-classification" or "mnist", got ${JSON.stringify(task)}`);
  }
  // dist/train/presets.js and src/train/presets.ts both sit two folders below the package root.
  return path.join(__dirname, "..", "..", "checkpoints", `${task}-s4`, "best");
}

/** One preset in words, for tables: the model, the training, the evaluated images, the time limit. */
export function describePreset(p: TierPreset): { model: string; training: string; evaluation: string; timeLimit: string } {
  const state = p.layer === "mamba" ? `d_state ${p.n}, expand ${p.expand ?? 2}` : `N ${p.n}`;
  const dropout = p.dropout ? `, dropout ${p.dropout}` : "";
  const images = Math.min(p.trainLimit ?? TRAIN_IMAGES, TRAIN_IMAGES);
  const steps = p.epochs * Math.ceil(images / p.bsz);
  const pass = p.epochs === 1 ? "1 epoch" : `${p.epochs} epochs`;
  return {
    model: `${p.layer}, d_model ${p.dModel}, ${p.nLayers} layer${p.nLayers === 1 ? "" : "s"}, ${state}${dropout}`,
    training: `batch ${p.bsz}, lr ${p.lr}, ${pass} of ${images} images (${steps} steps)`,
    evaluation: `${p.valLimit ?? VALIDATION_SIZE} validation / ${p.testLimit ?? TEST_IMAGES} test images`,
    timeLimit: `${p.timeLimitMinutes} min`,
  };
}
