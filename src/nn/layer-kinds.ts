/**
 * One description per layer kind of StackedModel: which of the kind-specific options it takes
 * (with their defaults), how to build one block of the residual stream, and whether the stream
 * ends in a norm. Adding a kind is adding an entry here (and its name to LAYER_KINDS).
 */
import { MambaBlock } from "./mamba-block";
import { MambaResidualBlock } from "./mamba-residual-block";
import type { ModelBlock } from "./model-block";
import { RMSNorm } from "./rms-norm";
import { S4Layer } from "./s4-layer";
import { S4DLayer } from "./s4d-layer";
import { SequenceBlock } from "./sequence-block";
import type { SequenceLayer } from "./sequence-layer";
import { SSMLayer } from "./ssm-layer";
import type { KindOption, LayerKind, ResolvedModelOptions, StackedModelOptions } from "./stacked-model-options";

export interface LayerKindSpec {
  /**
   * The kind-specific options this kind takes, each with its default (undefined: left unset when
   * not given). Any other kind option is an error for this kind.
   */
  readonly options: Partial<Record<KindOption, number | boolean | undefined>>;
  /** Checks this kind's options (as given) beyond their presence; throws naming `fn`. */
  checkOptions?(fn: string, opts: StackedModelOptions): void;
  /** Block i of the residual stream, from the resolved options and the block's seed. */
  makeBlock(opts: ResolvedModelOptions, seed: number): ModelBlock;
  /** The norm of the residual stream before the decoder, or null for none. */
  makeFinalNorm(dModel: number): RMSNorm | null;
}

/** An S4-family block: SequenceBlock (norm, SSM layer, GELU, projection) around `layer`. */
function ssmBlock(layer: SequenceLayer, o: ResolvedModelOptions, seed: number): ModelBlock {
  return new SequenceBlock({ layer, h: o.dModel, prenorm: o.prenorm, dropout: o.dropout, glu: o.glu, seed });
}

export const LAYER_KIND_SPECS: Readonly<Record<LayerKind, LayerKindSpec>> = {
  s4: {
    options: { conjugatePairs: undefined },
    checkOptions(fn, opts) {
      if (opts.conjugatePairs !== undefined && typeof opts.conjugatePairs !== "boolean") {
        throw new Error(`${fn}: conjugatePairs must be a boolean, got ${String(opts.conjugatePairs)}`);
      }
    },
    makeBlock: (o, seed) => {
      const layer = new S4Layer({ h: o.dModel, n: o.n, l: o.l, seed, conjugatePairs: o.conjugatePairs ?? false });
      return ssmBlock(layer, o, seed);
    },
    makeFinalNorm: () => null,
  },
  s4d: {
    options: {},
    makeBlock: (o, seed) => ssmBlock(new S4DLayer({ h: o.dModel, n: o.n, l: o.l, seed }), o, seed),
    makeFinalNorm: () => null,
  },
  ssm: {
    options: {},
    makeBlock: (o, seed) => ssmBlock(new SSMLayer({ h: o.dModel, n: o.n, l: o.l, seed }), o, seed),
    makeFinalNorm: () => null,
  },
  // x + Mamba(RMSNorm(x)) blocks and a final RMSNorm of the stream; prenorm and glu do not apply.
  mamba: {
    options: { expand: 2, dConv: 4 },
    makeBlock: (o, seed) =>
      new MambaResidualBlock({
        mixer: new MambaBlock({ dModel: o.dModel, n: o.n, expand: o.expand, dConv: o.dConv, seed }),
        dropout: o.dropout,
        seed,
      }),
    makeFinalNorm: (dModel) => new RMSNorm(dModel),
  },
};
