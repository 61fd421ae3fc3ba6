/** The residual block of the S4-family models, around one SSM layer. */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg, checkRate } from "../checks";
import { gelu } from "../kernels/gelu";
import { glu } from "../kernels/glu";
import { subSeed } from "../random";
import { Dense } from "./dense";
import { Dropout } from "./dropout";
import { LayerNorm } from "./layer-norm";
import { Module } from "./module";
import type { LayerState, SequenceLayer } from "./sequence-layer";
import type { BlockForwardOptions } from "./model-block";

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
 * Everything except the SSM layer acts on each position independently, so the same modules
 * apply to (b, l, h) sequences in CNN mode and to (b, h) slices in RNN mode.
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
    if (!opts.layer || opts.layer.h !== this.h)
      throw new Error(
        `${fn}: layer must be an SSM layer with h = ${this.h}, got ${opts.layer ? `h = ${opts.layer.h}` : String(opts.layer)}`,
      );
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
  forward(x: tf.Tensor, { training = false }: BlockForwardOptions = {}): tf.Tensor {
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
