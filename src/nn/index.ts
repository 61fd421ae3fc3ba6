/**
 * The modules: the base class, the sequence layers (S4, S4D, dense SSM, Mamba), the blocks around
 * them and the stacked model both MNIST tasks train. Inputs and outputs are (b, l, h); see
 * docs/conventions.md.
 */
export { Module } from "./module";
export { disposeState, type LayerState, type SequenceLayer } from "./sequence-layer";
export { S4Layer, type S4LayerOptions } from "./s4-layer";
export { S4DLayer, type S4DLayerOptions } from "./s4d-layer";
export { SSMLayer, type SSMLayerOptions } from "./ssm-layer";
export { MambaBlock, type MambaBlockOptions, type MambaState } from "./mamba-block";
export { LayerNorm } from "./layer-norm";
export { RMSNorm } from "./rms-norm";
export { Dense } from "./dense";
export { Embedding } from "./embedding";
export { Dropout } from "./dropout";
export { SequenceBlock, type SequenceBlockOptions } from "./sequence-block";
export { MambaResidualBlock, type MambaResidualBlockOptions } from "./mamba-residual-block";
export type { BlockForwardOptions, ModelBlock } from "./model-block";
export { StackedModel } from "./stacked-model";
export { LAYER_KINDS, type LayerKind, type ModelTask, type StackedModelOptions } from "./stacked-model-options";
export { recomputeInBackward } from "./recompute";
