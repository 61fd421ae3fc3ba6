/** The full sequence model: encoder → blocks of one layer kind → decoder. */
import * as tf from "@tensorflow/tfjs";
import { checkDims, checkIntArg, checkRate, checkSeed } from "../checks";
import { subSeed } from "../random";
import { Dense } from "./dense";
import { Embedding } from "./embedding";
import { LAYER_KIND_SPECS } from "./layer-kinds";
import { meanOverLength } from "./mean-pool";
import type { ModelBlock } from "./model-block";
import { Module } from "./module";
import { forwardRecomputed } from "./recompute-block";
import type { RMSNorm } from "./rms-norm";
import { LayerState, disposeState } from "./sequence-layer";
import { KIND_OPTIONS, LAYER_KINDS, ResolvedModelOptions, StackedModelOptions } from "./stacked-model-options";
import { formatShape } from "../shape-format";

/** The kind that takes option k, for error messages (undefined: no kind does). */
function ownerOf(k: string): string | undefined {
  return LAYER_KINDS.find((kind) => k in LAYER_KIND_SPECS[kind].options);
}

/**
 * encoder → nLayers × SequenceBlock → decoder. "classification": mean over positions, logits
 * (b, numClasses). "sequence": the input is shifted right by one (a 0 start token in front, the
 * last element dropped), so the logits at position t (b, l, numClasses) see only pixels < t.
 *
 * What differs between layer kinds (the blocks, a final norm, the kind's own options) is described
 * once per kind in layer-kinds.ts: layerKind "mamba" has MambaResidualBlocks (x + Mamba(RMSNorm(x)))
 * and a final RMSNorm of the residual stream before the decoder (prenorm and glu do not apply).
 * Every kind lives here rather than in a model class of its own so that the encoders, the shift,
 * the pooling, RNN mode, checkpoints, training and sampling stay one implementation for every kind.
 */
export class StackedModel extends Module {
  /** The options with their defaults filled in; expand and dConv only for layerKind "mamba", conjugatePairs only for "s4" when set. */
  readonly opts: ResolvedModelOptions;
  readonly encoder: Dense | Embedding;
  readonly blocks: ModelBlock[] = [];
  /** The final norm of a Mamba residual stream; null for the other kinds. */
  readonly finalNorm: RMSNorm | null = null;
  readonly decoder: Dense;

  constructor(opts: StackedModelOptions) {
    super();
    const fn = "StackedModel";
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    if (opts.task !== "classification" && opts.task !== "sequence")
      throw new Error(`${fn}: task must be "classification" or "sequence", got ${JSON.stringify(opts.task)}`);
    if (!LAYER_KINDS.includes(opts.layerKind))
      throw new Error(
        `${fn}: layerKind must be one of ${LAYER_KINDS.map((k) => `"${k}"`).join(", ")}, got ${JSON.stringify(opts.layerKind)}`,
      );
    for (const k of ["dModel", "nLayers", "n", "l", "numClasses"] as const) checkIntArg(fn, k, opts[k]);
    const seed = checkSeed(fn, opts.seed ?? 0);
    const kind = LAYER_KIND_SPECS[opts.layerKind];
    const kindDefaults: Partial<StackedModelOptions> = {};
    for (const k of KIND_OPTIONS) {
      if (k in kind.options) {
        const d = kind.options[k];
        if (d !== undefined) Object.assign(kindDefaults, { [k]: opts[k] ?? d });
      } else if (opts[k] !== undefined) {
        const got = `${k} ${String(opts[k])} with layerKind "${opts.layerKind}"`;
        throw new Error(`${fn}: ${k} applies to layerKind "${ownerOf(k)}" only, got ${got}`);
      }
    }
    kind.checkOptions?.(fn, opts);
    this.opts = { prenorm: true, dropout: 0, glu: true, embedding: false, seed, ...opts, ...kindDefaults };
    checkRate(fn, "dropout", this.opts.dropout);
    const { dModel, nLayers, numClasses } = this.opts;
    this.encoder = this.addChild(
      "encoder",
      this.opts.embedding ? new Embedding(256, dModel, subSeed(seed, "encoder")) : new Dense(1, dModel, subSeed(seed, "encoder")),
    );
    for (let i = 0; i < nLayers; i++) this.blocks.push(this.addChild(`blocks.${i}`, kind.makeBlock(this.opts, subSeed(seed, `block${i}`))));
    const finalNorm = kind.makeFinalNorm(dModel);
    if (finalNorm) this.finalNorm = this.addChild("norm_f", finalNorm);
    this.decoder = this.addChild("decoder", new Dense(dModel, numClasses, subSeed(seed, "decoder")));
  }

  private checkInput(x: tf.Tensor): void {
    const l = this.opts.l;
    const ok = (x.rank === 2 && x.shape[1] === l) || (!this.opts.embedding && x.rank === 3 && x.shape[1] === l && x.shape[2] === 1);
    if (!ok)
      throw new Error(
        `StackedModel.forward: x must have shape (b, l = ${l})${this.opts.embedding ? "" : " or (b, l, 1)"}, got ${formatShape(x.shape)}`,
      );
  }

  /** Inputs (b, l) or (b, l, 1) → (b, l, dModel). */
  private encode(x: tf.Tensor): tf.Tensor {
    return this.opts.embedding ? this.encoder.forward(x) : this.encoder.forward(tf.expandDims(tf.cast(x, "float32"), -1));
  }

  /**
   * x (b, l) [or (b, l, 1)] → logits (b, numClasses) or (b, l, numClasses).
   * `recompute`: activation checkpointing per block (see recompute.ts): the same values and
   * gradients for about a block's worth of memory instead of the whole stack's, at the cost of
   * one more forward pass. Only matters under a gradient.
   */
  forward(x: tf.Tensor, { training = false, recompute = false }: { training?: boolean; recompute?: boolean } = {}): tf.Tensor {
    this.checkInput(x);
    return tf.tidy(() => {
      let u = tf.reshape(x, [x.shape[0], this.opts.l]); // (b, l)
      if (this.opts.task === "sequence")
        u = tf.concat([tf.zerosLike(tf.slice(u, [0, 0], [-1, 1])), tf.slice(u, [0, 0], [-1, this.opts.l - 1])], 1);
      let h = this.encode(u); // (b, l, dModel)
      for (const b of this.blocks) h = recompute ? forwardRecomputed(b, h, training) : b.forward(h, { training });
      if (this.finalNorm) h = this.finalNorm.forward(h);
      if (this.opts.task === "classification") h = meanOverLength(h); // (b, dModel)
      return this.decoder.forward(h);
    });
  }

  /** RNN mode: prepares every SSM layer's recurrence from the current parameters. */
  async setupRecurrence(): Promise<void> {
    for (const b of this.blocks) await b.layer.setupRecurrence();
  }

  /** One zero state per block. */
  initState(b: number): LayerState[] {
    return this.blocks.map((blk) => blk.layer.initState(b));
  }

  /**
   * RNN mode, one position of the sequence task: `input` (b) is the token fed at this position
   * (the previous pixel, or 0 at the start) → logits (b, numClasses) for the current pixel.
   */
  stepModel(states: LayerState[], input: tf.Tensor): { logits: tf.Tensor; states: LayerState[] } {
    if (this.opts.task !== "sequence") throw new Error(`StackedModel.stepModel: RNN mode needs task "sequence", got "${this.opts.task}"`);
    if (states.length !== this.blocks.length)
      throw new Error(`StackedModel.stepModel: states must hold one state per block (${this.blocks.length}), got ${states.length}`);
    checkDims("StackedModel.stepModel: input", input, [-1], "(b)");
    return tf.tidy(() => {
      let h = this.opts.embedding ? this.encoder.forward(input) : this.encoder.forward(tf.reshape(tf.cast(input, "float32"), [-1, 1])); // (b, dModel)
      const next: LayerState[] = [];
      this.blocks.forEach((blk, i) => {
        const r = blk.step(states[i], h);
        h = r.y;
        next.push(r.state);
      });
      return { logits: this.decoder.forward(this.finalNorm ? this.finalNorm.forward(h) : h), states: next };
    });
  }

  /**
   * Runs the sequence model over x (b, l) one position at a time (after `setupRecurrence`):
   * the RNN-mode twin of `forward(x)`, → logits (b, l, numClasses).
   */
  recurrentLogits(x: tf.Tensor): tf.Tensor {
    this.checkInput(x);
    const b = x.shape[0],
      l = this.opts.l;
    const cols = tf.tidy(() => tf.unstack(tf.reshape(x, [b, l]), 1)); // l × (b)
    let states = this.initState(b);
    let prev: tf.Tensor = tf.zeros([b], x.dtype);
    const outs: tf.Tensor[] = [];
    for (let t = 0; t < l; t++) {
      const r = this.stepModel(states, prev);
      disposeState(states);
      states = r.states;
      outs.push(r.logits);
      prev.dispose();
      prev = cols[t];
    }
    prev.dispose();
    disposeState(states);
    const out = tf.stack(outs, 1);
    tf.dispose(outs);
    return out;
  }
}
