/**
 * One layer of a Mamba model's residual stream: x + dropout(mixer(RMSNorm(x))), the norm first
 * (prenorm), with no other position-wise layer: the Mamba block's gate and projections take the
 * place of the GELU / GLU tail of an S4 block.
 */
import * as tf from "@tensorflow/tfjs";
import { checkRate } from "../checks";
import { subSeed } from "../random";
import { Dropout } from "./dropout";
import { MambaBlock, isMambaState } from "./mamba-block";
import type { BlockForwardOptions } from "./model-block";
import { Module } from "./module";
import type { LayerState } from "./sequence-layer";
import { RMSNorm } from "./rms-norm";

export interface MambaResidualBlockOptions {
  mixer: MambaBlock;
  /** Dropout rate on the mixer's output before the residual sum, in training only (default 0). */
  dropout?: number;
  /** Seed of the dropout stream (default 0). */
  seed?: number;
}

export class MambaResidualBlock extends Module {
  readonly mixer: MambaBlock;
  readonly norm: RMSNorm;
  readonly drop: Dropout;

  constructor(opts: MambaResidualBlockOptions) {
    super();
    if (!opts || !(opts.mixer instanceof MambaBlock))
      throw new Error(`MambaResidualBlock: mixer must be a MambaBlock, got ${String(opts?.mixer)}`);
    this.mixer = this.addChild("mixer", opts.mixer);
    this.norm = this.addChild("norm", new RMSNorm(opts.mixer.dModel));
    this.drop = new Dropout(checkRate("MambaResidualBlock", "dropout", opts.dropout ?? 0), subSeed(opts.seed ?? 0, "dropout"));
  }

  get h(): number {
    return this.mixer.dModel;
  }

  /** The block's sequence layer, under the name StackedModel uses for every kind of block. */
  get layer(): MambaBlock {
    return this.mixer;
  }

  /** Whole sequence: (b, l, d_model) → (b, l, d_model). */
  forward(x: tf.Tensor, { training = false }: BlockForwardOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const y = this.mixer.forward(this.norm.forward(x));
      return tf.add(x, this.drop.apply(y, training));
    });
  }

  /** One position (inference): x (b, d_model) → (b, d_model) and the mixer's next state. */
  step(state: LayerState, x: tf.Tensor): { y: tf.Tensor; state: LayerState } {
    if (!isMambaState(state))
      throw new Error(`MambaResidualBlock.step: state must be a Mamba state {conv, ssm} (from initState), got ${String(state)}`);
    return tf.tidy(() => {
      const r = this.mixer.step(state, this.norm.forward(x));
      return { y: tf.add(x, r.y), state: r.state };
    });
  }
}
