/**
 * The names (and layouts) under which a StackedModel's parameters are saved, so that PyTorch code
 * can take them as they are. A Mamba stack uses the state-dict names of the reference
 * implementation (mamba_ssm's MixerModel, with Mamba blocks as mixers):
 *   blocks.{i}.mixer.in_proj_weight   → backbone.layers.{i}.mixer.in_proj.weight
 *   blocks.{i}.mixer.conv_weight      → backbone.layers.{i}.mixer.conv1d.weight   (d_inner, d_conv) → (d_inner, 1, d_conv)
 *   blocks.{i}.mixer.A_log, D, ...    → backbone.layers.{i}.mixer.A_log, D, ...
 *   blocks.{i}.norm.weight            → backbone.layers.{i}.norm.weight
 *   norm_f.weight                     → backbone.norm_f.weight
 *   encoder.table                     → backbone.embedding.weight                  (vocab, d_model), as nn.Embedding
 * so `{k[len("backbone.layers.0.mixer."):]: v}` for one layer goes straight into a PyTorch Mamba
 * block's load_state_dict. The encoder's and decoder's Dense layers (kernel (in, out), not
 * PyTorch's (out, in)) and the S4/S4D/SSM stacks, which have no PyTorch reference to match, keep
 * their own names.
 */
import type { LayerKind } from "../nn";

/** Our Mamba block parameter name → the reference's state-dict name. */
const MIXER_NAMES: Readonly<Record<string, string>> = {
  in_proj_weight: "in_proj.weight",
  in_proj_bias: "in_proj.bias",
  conv_weight: "conv1d.weight",
  conv_bias: "conv1d.bias",
  x_proj_weight: "x_proj.weight",
  dt_proj_weight: "dt_proj.weight",
  dt_proj_bias: "dt_proj.bias",
  A_log: "A_log",
  D: "D",
  out_proj_weight: "out_proj.weight",
  out_proj_bias: "out_proj.bias",
};

export interface StoredParam {
  /** The name in the checkpoint. */
  name: string;
  /** The shape in the checkpoint (the same number of values as the parameter). */
  shape: number[];
}

/** Where parameter `name` of shape `shape` goes in a saved StackedModel of this layer kind. */
export function stateDictName(layerKind: LayerKind, name: string, shape: readonly number[]): StoredParam {
  const same = { name, shape: [...shape] };
  if (layerKind !== "mamba") return same;
  const mixer = /^blocks\.(\d+)\.mixer\.(.+)$/.exec(name);
  if (mixer) {
    const torch = MIXER_NAMES[mixer[2]];
    if (!torch) return same;
    // PyTorch's depthwise Conv1d weight keeps an input-channel axis of size 1.
    const stored = mixer[2] === "conv_weight" && shape.length === 2 ? [shape[0], 1, shape[1]] : [...shape];
    return { name: `backbone.layers.${mixer[1]}.mixer.${torch}`, shape: stored };
  }
  const norm = /^blocks\.(\d+)\.norm\.weight$/.exec(name);
  if (norm) return { name: `backbone.layers.${norm[1]}.norm.weight`, shape: [...shape] };
  if (name === "norm_f.weight") return { name: "backbone.norm_f.weight", shape: [...shape] };
  if (name === "encoder.table") return { name: "backbone.embedding.weight", shape: [...shape] };
  return same;
}
