/**
 * A trained model on disk: its StackedModel configuration, its parameters and, for resuming, the
 * optimizer state and training progress — all in one checkpoint (see checkpoint.ts for the
 * format and its atomic writes). Loading rebuilds the model from the configuration and checks
 * every parameter's shape before assigning it.
 *
 * In the tensor file (version 2) the parameters carry their PyTorch state-dict names and layouts
 * (state-dict-names.ts: a Mamba stack's `backbone.layers.{i}.mixer.in_proj.weight`, ...) with no
 * prefix, and the optimizer's moments sit beside them as `optim.m.<name>` and `optim.v.<name>`
 * in the same layout: everything not under `optim.` is the model's state dict. Version 1 files
 * (our own names under `param.`) still load.
 */
import * as tf from "@tensorflow/tfjs";
import { StackedModel, StackedModelOptions } from "../nn";
import { AdamW, AdamWState } from "./adamw";
import { checkShapes, loadCheckpoint, saveCheckpoint, CHECKPOINT_VERSION_V1 } from "./checkpoint";
import { stateDictName, StoredParam } from "./state-dict-names";

/** Version 1 files: parameters under this prefix, by our names. */
const PARAM_V1 = "param.";
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

/** Each parameter's name and shape in the file, by our name. */
function storedLayout(model: StackedModel): Map<string, StoredParam> {
  const layout = new Map<string, StoredParam>();
  for (const [name, v] of Object.entries(model.parameters())) layout.set(name, stateDictName(model.opts.layerKind, name, v.shape));
  return layout;
}

/** Saves the model's parameters (and optionally the optimizer's state) with its configuration. */
export async function saveModelCheckpoint(
  filePath: string,
  model: StackedModel,
  opts: { training?: Record<string, unknown>; optimizer?: AdamW; meta?: Record<string, unknown> } = {},
): Promise<void> {
  const layout = storedLayout(model);
  const tensors: Record<string, tf.Tensor> = {};
  const reshaped: tf.Tensor[] = [];
  // A value under its stored name, reshaped to the stored layout when that differs.
  const put = (key: string, t: tf.Tensor, shape: number[]) => {
    if (tf.util.arraysEqual(t.shape, shape)) tensors[key] = t;
    else reshaped.push((tensors[key] = tf.reshape(t, shape)));
  };
  for (const [name, v] of Object.entries(model.parameters())) put(layout.get(name)!.name, v, layout.get(name)!.shape);
  const state = opts.optimizer ? opts.optimizer.getState() : null;
  try {
    if (state) {
      for (const [key, t] of Object.entries(state.tensors)) {
        // Optimizer keys are "<slot>.<parameter name>" (slot m or v).
        const dot = key.indexOf(".");
        const where = layout.get(key.slice(dot + 1));
        if (dot < 0 || !where) throw new Error(`saveModelCheckpoint: optimizer state "${key}" names no parameter of the model`);
        put(`${OPTIMIZER}${key.slice(0, dot)}.${where.name}`, t, where.shape);
      }
    }
    const config: ModelCheckpointConfig = { kind: "stacked-model", model: model.opts, training: opts.training };
    await saveCheckpoint(filePath, { config, tensors, meta: { ...opts.meta, optimizerStep: state ? state.step : null } });
  } finally {
    tf.dispose(reshaped);
    if (state) tf.dispose(Object.values(state.tensors));
  }
}

/**
 * Splits a loaded checkpoint's tensors into parameters and optimizer moments under our names and
 * shapes; the inputs go to the outputs or are disposed.
 */
function toOurNames(
  filePath: string,
  model: StackedModel,
  version: number,
  loaded: Record<string, tf.Tensor>,
): { params: Record<string, tf.Tensor>; optim: Record<string, tf.Tensor> } {
  const params: Record<string, tf.Tensor> = {};
  const optim: Record<string, tf.Tensor> = {};
  if (version === CHECKPOINT_VERSION_V1) {
    for (const [name, t] of Object.entries(loaded)) {
      if (name.startsWith(PARAM_V1)) params[name.slice(PARAM_V1.length)] = t;
      else if (name.startsWith(OPTIMIZER)) optim[name.slice(OPTIMIZER.length)] = t;
      else throw new Error(`checkpoint ${filePath}: unexpected tensor "${name}"`);
    }
    return { params, optim };
  }
  const layout = storedLayout(model);
  const ours = new Map([...layout].map(([name, s]) => [s.name, name]));
  // Stored layout back to ours: names through the map, shapes by reshaping (same values).
  const own = model.parameters();
  const back = (t: tf.Tensor, name: string) => {
    const shape = own[name].shape;
    if (tf.util.arraysEqual(t.shape, shape)) return t;
    const r = tf.reshape(t, shape);
    t.dispose();
    return r;
  };
  const stored: Record<string, tf.Tensor> = {};
  const moments: [string, string, tf.Tensor][] = [];
  for (const [key, t] of Object.entries(loaded)) {
    if (key.startsWith(OPTIMIZER)) {
      const rest = key.slice(OPTIMIZER.length);
      const dot = rest.indexOf(".");
      const name = ours.get(rest.slice(dot + 1));
      if (dot < 0 || name === undefined) {
        throw new Error(`checkpoint ${filePath}: optimizer tensor "${key}" names no parameter of the model`);
      }
      const want = layout.get(name)!.shape;
      if (!tf.util.arraysEqual(t.shape, want)) {
        throw new Error(
          `checkpoint ${filePath}: optimizer tensor "${key}" must have shape [${want.join(", ")}], got [${t.shape.join(", ")}]`,
        );
      }
      moments.push([rest.slice(0, dot), name, t]);
    } else {
      stored[key] = t;
    }
  }
  checkShapes(Object.fromEntries([...layout.values()].map((s) => [s.name, s.shape])), stored);
  for (const [key, t] of Object.entries(stored)) params[ours.get(key)!] = back(t, ours.get(key)!);
  for (const [slot, name, t] of moments) optim[`${slot}.${name}`] = back(t, name);
  return { params, optim };
}

/** Rebuilds a StackedModel from a checkpoint, with shapes checked; never runs code from the file. */
export async function loadModelCheckpoint(filePath: string): Promise<SavedModel> {
  const loaded = await loadCheckpoint(filePath);
  const config = loaded.config as ModelCheckpointConfig | null;
  if (!config || config.kind !== "stacked-model" || typeof config.model !== "object" || config.model === null) {
    tf.dispose(Object.values(loaded.tensors));
    throw new Error(
      `checkpoint ${filePath} does not hold a stacked model (config.kind is ${JSON.stringify(config?.kind)}, expected "stacked-model")`,
    );
  }
  let model: StackedModel | null = null;
  let split: { params: Record<string, tf.Tensor>; optim: Record<string, tf.Tensor> } | null = null;
  try {
    model = new StackedModel(config.model);
    split = toOurNames(filePath, model, loaded.version, loaded.tensors);
    const params = model.parameters();
    checkShapes(Object.fromEntries(Object.entries(params).map(([n, v]) => [n, v.shape])), split.params);
    for (const [name, v] of Object.entries(params)) v.assign(split.params[name]);
    tf.dispose(Object.values(split.params));
    const step = loaded.meta.optimizerStep;
    const optimizerState = Object.keys(split.optim).length && typeof step === "number" ? { step, tensors: split.optim } : null;
    if (!optimizerState) tf.dispose(Object.values(split.optim));
    return { model, config, meta: loaded.meta, optimizerState };
  } catch (e) {
    model?.dispose();
    const left = [...Object.values(loaded.tensors), ...(split ? [...Object.values(split.params), ...Object.values(split.optim)] : [])];
    tf.dispose(left.filter((t) => !t.isDisposed));
    throw e;
  }
}
