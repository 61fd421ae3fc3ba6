/**
 * A trained model on disk: its StackedModel configuration, its parameters and, for resuming, the
 * optimizer state and training progress — all in one checkpoint (see checkpoint.ts for the
 * format and its atomic writes). Loading rebuilds the model from the configuration and checks
 * every parameter's shape before assigning it.
 */
import * as tf from "@tensorflow/tfjs";
import { StackedModel, StackedModelOptions } from "../nn";
import { AdamW, AdamWState } from "./adamw";
import { checkShapes, loadCheckpoint, saveCheckpoint } from "./checkpoint";

const PARAM = "param.";
const OPTIMIZER = "optim.";

export interface ModelCheckpointConfig {
  /** What kind of checkpoint this is, so a wrong file is refused with a clear message. */
  kind: "stacked-model";
  model: StackedModelOptions;
  /** Free-form training settings (task, lr, batch size...) kept for the record. */
  training?: Record<string, unknown>;
}

export interface SavedModel {
  model: StackedModel;
  config: ModelCheckpointConfig;
  /** Training progress saved with the model (epoch, step, best metric, ...). */
  meta: Record<string, unknown>;
  /** The optimizer's state when one was saved; the caller owns (and disposes) its tensors. */
  optimizerState: AdamWState | null;
}

/** Saves the model's parameters (and optionally the optimizer's state) with its configuration. */
export async function saveModelCheckpoint(
  filePath: string,
  model: StackedModel,
  opts: { training?: Record<string, unknown>; optimizer?: AdamW; meta?: Record<string, unknown> } = {},
): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(model.parameters())) tensors[PARAM + name] = v;
  const state = opts.optimizer ? opts.optimizer.getState() : null;
  if (state) for (const [name, t] of Object.entries(state.tensors)) tensors[OPTIMIZER + name] = t;
  const config: ModelCheckpointConfig = { kind: "stacked-model", model: model.opts, training: opts.training };
  try {
    await saveCheckpoint(filePath, { config, tensors, meta: { ...opts.meta, optimizerStep: state ? state.step : null } });
  } finally {
    if (state) tf.dispose(Object.values(state.tensors));
  }
}

/** Rebuilds a StackedModel from a checkpoint, with shapes checked; never runs code from the file. */
export async function loadModelCheckpoint(filePath: string): Promise<SavedModel> {
  const loaded = await loadCheckpoint(filePath);
  const config = loaded.config as ModelCheckpointConfig | null;
  if (!config || config.kind !== "stacked-model" || typeof config.model !== "object" || config.model === null) {
    tf.dispose(Object.values(loaded.tensors));
    throw new Error(`checkpoint ${filePath} does not hold a stacked model (config.kind is ${JSON.stringify(config?.kind)}, expected "stacked-model")`);
  }
  let model: StackedModel | null = null;
  try {
    model = new StackedModel(config.model);
    const params = model.parameters();
    const saved: Record<string, tf.Tensor> = {};
    const optim: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(loaded.tensors)) {
      if (name.startsWith(PARAM)) saved[name.slice(PARAM.length)] = t;
      else if (name.startsWith(OPTIMIZER)) optim[name.slice(OPTIMIZER.length)] = t;
      else throw new Error(`checkpoint ${filePath}: unexpected tensor "${name}"`);
    }
    checkShapes(Object.fromEntries(Object.entries(params).map(([n, v]) => [n, v.shape])), saved);
    for (const [name, v] of Object.entries(params)) v.assign(saved[name]);
    tf.dispose(Object.values(saved));
    const step = loaded.meta.optimizerStep;
    const optimizerState = Object.keys(optim).length && typeof step === "number" ? { step, tensors: optim } : null;
    if (!optimizerState) tf.dispose(Object.values(optim));
    return { model, config, meta: loaded.meta, optimizerState };
  } catch (e) {
    model?.dispose();
    tf.dispose(Object.values(loaded.tensors).filter((t) => !t.isDisposed));
    throw e;
  }
}
