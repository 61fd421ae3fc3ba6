/** The configuration of a StackedModel (also what a model checkpoint stores). */

export type LayerKind = "s4" | "s4d" | "ssm" | "mamba";
/** Every layer kind, in the order the command line lists them. */
export const LAYER_KINDS: readonly LayerKind[] = ["s4", "s4d", "ssm", "mamba"];
export type ModelTask = "classification" | "sequence";

export interface StackedModelOptions {
  task: ModelTask;
  layerKind: LayerKind;
  dModel: number;
  nLayers: number;
  /** State size N of every SSM layer. */
  n: number;
  /** Sequence length. */
  l: number;
  numClasses: number;
  prenorm?: boolean;
  dropout?: number;
  glu?: boolean;
  /** true: inputs are integer tokens in [0, 256) through an Embedding; false: one real channel. */
  embedding?: boolean;
  /** Mamba only: d_inner = expand · dModel (default 2) and the convolution width (default 4). */
  expand?: number;
  dConv?: number;
  /** S4 only: store n/2 modes of conjugate pairs (S4LayerOptions.conjugatePairs). Default false. */
  conjugatePairs?: boolean;
  seed?: number;
}

/** The options that only some layer kinds take. */
export type KindOption = "expand" | "dConv" | "conjugatePairs";
export const KIND_OPTIONS: readonly KindOption[] = ["expand", "dConv", "conjugatePairs"];

/** The options with their defaults filled in; the kind options only where the kind takes them. */
export type ResolvedModelOptions = Required<Omit<StackedModelOptions, KindOption>> & Pick<StackedModelOptions, KindOption>;
