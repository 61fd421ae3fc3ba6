/**
 * The pieces around the SSM layers: LayerNorm, Dense, Embedding, the residual SequenceBlock and
 * the full StackedModel (encoder → blocks → decoder) for classification or pixel-by-pixel
 * sequence modeling. Everything except the SSM layer acts on each position independently, so the
 * same modules apply to (b, l, h) sequences in CNN mode and to (b, h) slices in RNN mode.
 */
import * as tf from "@tensorflow/tfjs";
import { LayerState, Module, SequenceLayer, checkDims, checkIntArg, checkRate, checkSeed, disposeState, seededNormal, subSeed } from "./module";
import { seededDropout } from "../kernels/dropout";
import { gelu } from "../kernels/gelu";
import { glu } from "../kernels/glu";
import { layerNorm } from "../kernels/layer-norm";
import { matMul2d } from "./linear";
import { meanOverLength } from "./mean-pool";
import { S4Layer } from "./s4-layer";
import { S4DLayer } from "./s4d-layer";
import { SSMLayer } from "./ssm-layer";
import { MambaBlock } from "./mamba-block";
import { MambaResidualBlock } from "./mamba-residual-block";
import { RMSNorm } from "./rms-norm";
import { recomputeInBackward } from "./recompute";

/** Normalizes the last axis to zero mean and unit variance, then scales and shifts: (..., h). */
export class LayerNorm extends Module {
  readonly scale: tf.Variable; // (h)
  readonly bias: tf.Variable; // (h)
  constructor(readonly h: number, readonly eps = 1e-5) {
    super();
    checkIntArg("LayerNorm", "h", h);
    this.scale = this.addParam("scale", new Float32Array(h).fill(1), [h]);
    this.bias = this.addParam("bias", new Float32Array(h), [h]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.h) throw new Error(`LayerNorm.forward: x must have last axis h = ${this.h}, got (${x.shape.join(", ")})`);
    return layerNorm(x, this.scale, this.bias, this.eps); // one fused kernel each way where one exists
  }
}

/** y = x W + b on the last axis: (..., in) → (..., out); W (in, out) ~ N(0, 1/in), b = 0. */
export class Dense extends Module {
  readonly kernel: tf.Variable; // (in, out)
  readonly bias: tf.Variable; // (out)
  constructor(readonly inFeatures: number, readonly outFeatures: number, seed = 0) {
    super();
    checkIntArg("Dense", "inFeatures", inFeatures);
    checkIntArg("Dense", "outFeatures", outFeatures);
    this.kernel = this.addParam("kernel", seededNormal(inFeatures * outFeatures, subSeed(seed, "kernel"), 1 / Math.sqrt(inFeatures)), [inFeatures, outFeatures]);
    this.bias = this.addParam("bias", new Float32Array(outFeatures), [outFeatures]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) throw new Error(`Dense.forward: x must have last axis ${this.inFeatures}, got (${x.shape.join(", ")})`);
    return tf.tidy(() => {
      const flat = tf.reshape(x, [-1, this.inFeatures]);
      const y = tf.add(matMul2d(flat as tf.Tensor2D, this.kernel as tf.Tensor2D), this.bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}

/**
 * A lookup table for integer tokens in [0, vocab): (...) → (..., h). Written as a one-hot matmul,
 * whose gradient needs no scatter (wasm has no UnsortedSegmentSum).
 */
export class Embedding extends Module {
  readonly table: tf.Variable; // (vocab, h)
  constructor(readonly vocab: number, readonly h: number, seed = 0) {
    super();
    checkIntArg("Embedding", "vocab", vocab);
    checkIntArg("Embedding", "h", h);
    this.table = this.addParam("table", seededNormal(vocab * h, subSeed(seed, "table")), [vocab, h]);
  }
  forward(tokens: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const oneHot = tf.oneHot(tf.reshape(tf.cast(tokens, "int32"), [-1]), this.vocab); // (n, vocab)
      return tf.reshape(matMul2d(tf.cast(oneHot, "float32") as tf.Tensor2D, this.table as tf.Tensor2D), [...tokens.shape, this.h]);
    });
  }
}

/** GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), one fused kernel each way where one exists. */
export { gelu };

/**
 * Inverted dropout with a seeded stream: a fresh mask per call, reproducible from the seed. The
 * masks come from `seededDropout`, drawn on the device (tf.dropout draws them on the host, which
 * dominated a GPU training step).
 */
export class Dropout {
  /**
   * Index of the next mask in the stream. The training loop sets it from the step (exact
   * resume); recomputation sets it back so that the second pass draws the same masks.
   */
  position = 0;
  constructor(readonly rate: number, readonly seed = 0) {
    checkRate("Dropout", "rate", rate);
  }
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    if (!training || this.rate === 0) return x;
    return seededDropout(x, this.rate, subSeed(this.seed, `call${this.position++}`));
  }
}

export interface SequenceBlockOptions {
  layer: SequenceLayer;
  h: number;
  prenorm?: boolean;
  dropout?: number;
  glu?: boolean;
  seed?: number;
}

/**
 * x → [norm] → SSM layer → GELU → dropout → output projection (GLU: Dense h→2h, a·σ(b); else
 * Dense h→h) → dropout → + x → [norm]; the norm comes first (prenorm) or last (postnorm).
 */
export class SequenceBlock extends Module {
  readonly layer: SequenceLayer;
  readonly h: number;
  readonly prenorm: boolean;
  readonly glu: boolean;
  readonly norm: LayerNorm;
  readonly out: Dense;
  readonly drop: Dropout;

  constructor(opts: SequenceBlockOptions) {
    super();
    const fn = "SequenceBlock";
    this.h = checkIntArg(fn, "h", opts.h);
    if (!opts.layer || opts.layer.h !== this.h) throw new Error(`${fn}: layer must be an SSM layer with h = ${this.h}, got ${opts.layer ? `h = ${opts.layer.h}` : String(opts.layer)}`);
    this.prenorm = opts.prenorm ?? true;
    this.glu = opts.glu ?? true;
    this.drop = new Dropout(checkRate(fn, "dropout", opts.dropout ?? 0), subSeed(opts.seed ?? 0, "dropout"));
    this.layer = this.addChild("layer", opts.layer);
    this.norm = this.addChild("norm", new LayerNorm(this.h));
    this.out = this.addChild("out", new Dense(this.h, this.glu ? 2 * this.h : this.h, subSeed(opts.seed ?? 0, "out")));
  }

  /** Everything after the SSM layer; acts per position, so x may be (b, l, h) or (b, h). */
  private tail(skip: tf.Tensor, y: tf.Tensor, training: boolean): tf.Tensor {
    let x = this.drop.apply(gelu(y), training);
    x = this.out.forward(x);
    if (this.glu) x = glu(x); // (..., 2h) → a·σ(g) (..., h)
    x = tf.add(skip, this.drop.apply(x, training));
    return this.prenorm ? x : this.norm.forward(x);
  }

  /** CNN mode: (b, l, h) → (b, l, h). */
  forward(x: tf.Tensor, training = false): tf.Tensor {
    return tf.tidy(() => this.tail(x, this.layer.forward(this.prenorm ? this.norm.forward(x) : x), training));
  }

  /** RNN mode, one position (inference): x (b, h) → (b, h). */
  step(state: LayerState, x: tf.Tensor): { y: tf.Tensor; state: LayerState } {
    return tf.tidy(() => {
      const r = this.layer.step(state, this.prenorm ? this.norm.forward(x) : x);
      return { y: this.tail(x, r.y, false), state: r.state };
    });
  }
}

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

function makeLayer(kind: LayerKind, h: number, n: number, l: number, seed: number, conjugatePairs: boolean): SequenceLayer {
  if (kind === "s4") return new S4Layer({ h, n, l, seed, conjugatePairs });
  if (kind === "s4d") return new S4DLayer({ h, n, l, seed });
  return new SSMLayer({ h, n, l, seed });
}

/**
 * A block's forward with its intermediates recomputed in the backward pass. The recomputation
 * rewinds the block's dropout stream to where this pass began, so it draws the same masks (and
 * leaves the stream where this pass left it).
 */
function forwardRecomputed(block: SequenceBlock | MambaResidualBlock, h: tf.Tensor, training: boolean): tf.Tensor {
  const start = block.drop?.position ?? 0;
  const rewind = () => {
    if (block.drop) block.drop.position = start;
  };
  return recomputeInBackward((x) => block.forward(x, training), h, Object.values(block.parameters()), rewind);
}

/**
 * encoder → nLayers × SequenceBlock → decoder. "classification": mean over positions, logits
 * (b, numClasses). "sequence": the input is shifted right by one (a 0 start token in front, the
 * last element dropped), so the logits at position t (b, l, numClasses) see only pixels < t.
 *
 * layerKind "mamba" swaps the blocks for MambaResidualBlocks (x + Mamba(RMSNorm(x))) and adds the
 * final RMSNorm of the Mamba residual stream before the decoder (prenorm and glu do not apply).
 * Mamba lives here rather than in a model class of its own so that the encoders, the shift,
 * the pooling, RNN mode, checkpoints, training and sampling stay one implementation for every kind.
 */
export class StackedModel extends Module {
  /** The options with their defaults filled in; expand and dConv only for layerKind "mamba", conjugatePairs only for "s4" when set. */
  readonly opts: Required<Omit<StackedModelOptions, "expand" | "dConv" | "conjugatePairs">> & Pick<StackedModelOptions, "expand" | "dConv" | "conjugatePairs">;
  readonly encoder: Dense | Embedding;
  readonly blocks: (SequenceBlock | MambaResidualBlock)[] = [];
  /** The final norm of a Mamba residual stream; null for the other kinds. */
  readonly finalNorm: RMSNorm | null = null;
  readonly decoder: Dense;

  constructor(opts: StackedModelOptions) {
    super();
    const fn = "StackedModel";
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    if (opts.task !== "classification" && opts.task !== "sequence") throw new Error(`${fn}: task must be "classification" or "sequence", got ${JSON.stringify(opts.task)}`);
    if (!LAYER_KINDS.includes(opts.layerKind)) throw new Error(`${fn}: layerKind must be one of ${LAYER_KINDS.map((k) => `"${k}"`).join(", ")}, got ${JSON.stringify(opts.layerKind)}`);
    for (const k of ["dModel", "nLayers", "n", "l", "numClasses"] as const) checkIntArg(fn, k, opts[k]);
    const seed = checkSeed(fn, opts.seed ?? 0);
    const mamba = opts.layerKind === "mamba";
    for (const k of ["expand", "dConv"] as const) if (!mamba && opts[k] !== undefined) throw new Error(`${fn}: ${k} applies to layerKind "mamba" only, got ${k} ${opts[k]} with layerKind "${opts.layerKind}"`);
    if (opts.conjugatePairs !== undefined && opts.layerKind !== "s4") throw new Error(`${fn}: conjugatePairs applies to layerKind "s4" only, got layerKind "${opts.layerKind}"`);
    if (opts.conjugatePairs !== undefined && typeof opts.conjugatePairs !== "boolean") throw new Error(`${fn}: conjugatePairs must be a boolean, got ${String(opts.conjugatePairs)}`);
    this.opts = { prenorm: true, dropout: 0, glu: true, embedding: false, seed, ...opts, ...(mamba ? { expand: opts.expand ?? 2, dConv: opts.dConv ?? 4 } : {}) };
    checkRate(fn, "dropout", this.opts.dropout);
    const { dModel, nLayers, n, l, numClasses } = this.opts;
    this.encoder = this.addChild("encoder", this.opts.embedding ? new Embedding(256, dModel, subSeed(seed, "encoder")) : new Dense(1, dModel, subSeed(seed, "encoder")));
    for (let i = 0; i < nLayers; i++) {
      const s = subSeed(seed, `block${i}`);
      const block = this.opts.layerKind === "mamba"
        ? new MambaResidualBlock({ mixer: new MambaBlock({ dModel, n, expand: this.opts.expand, dConv: this.opts.dConv, seed: s }), dropout: new Dropout(this.opts.dropout, subSeed(s, "dropout")) })
        : new SequenceBlock({ layer: makeLayer(this.opts.layerKind, dModel, n, l, s, this.opts.conjugatePairs ?? false), h: dModel, prenorm: this.opts.prenorm, dropout: this.opts.dropout, glu: this.opts.glu, seed: s });
      this.blocks.push(this.addChild(`blocks.${i}`, block));
    }
    if (this.opts.layerKind === "mamba") this.finalNorm = this.addChild("norm_f", new RMSNorm(dModel));
    this.decoder = this.addChild("decoder", new Dense(dModel, numClasses, subSeed(seed, "decoder")));
  }

  private checkInput(x: tf.Tensor): void {
    const l = this.opts.l;
    const ok = (x.rank === 2 && x.shape[1] === l) || (!this.opts.embedding && x.rank === 3 && x.shape[1] === l && x.shape[2] === 1);
    if (!ok) throw new Error(`StackedModel.forward: x must have shape (b, l = ${l})${this.opts.embedding ? "" : " or (b, l, 1)"}, got (${x.shape.join(", ")})`);
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
      if (this.opts.task === "sequence") u = tf.concat([tf.zerosLike(tf.slice(u, [0, 0], [-1, 1])), tf.slice(u, [0, 0], [-1, this.opts.l - 1])], 1);
      let h = this.encode(u); // (b, l, dModel)
      for (const b of this.blocks) h = recompute ? forwardRecomputed(b, h, training) : b.forward(h, training);
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
    if (states.length !== this.blocks.length) throw new Error(`StackedModel.stepModel: states must hold one state per block (${this.blocks.length}), got ${states.length}`);
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
    const b = x.shape[0], l = this.opts.l;
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
