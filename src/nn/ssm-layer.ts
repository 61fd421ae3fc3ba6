/**
 * The plain SSM layer: each of the h channels learns a dense real state matrix A (N, N), with B,
 * C, D and a step. The kernel is the bilinear discretization followed by the Krylov powers
 * Ā^k B̄, batched over channels. O(N²L) work: a reference layer for small N, not a fast one.
 */
import * as tf from "@tensorflow/tfjs";
import { makeHiPPO } from "../hippo";
import { inv } from "../linalg";
import { checkDims, checkIntArg } from "../checks";
import { seededNormal, subSeed } from "../random";
import { convolveWithSkip } from "./convolve-with-skip";
import { SSMLayerBase, SSMLayerBaseOptions } from "./ssm-layer-base";

export interface SSMLayerOptions extends SSMLayerBaseOptions {
  /** "hippo" (HiPPO-LegS A, the default) or "random" (N(0, 1/N) entries). */
  init?: "hippo" | "random";
}

/** The cached RNN system: Ā (h, N, N), B̄ (h, N). */
type SSMRecurrence = { Ab: tf.Tensor; Bb: tf.Tensor };

export class SSMLayer extends SSMLayerBase<tf.Tensor, SSMRecurrence> {
  readonly A: tf.Variable; // (h, N, N)
  readonly B: tf.Variable; // (h, N)
  readonly C: tf.Variable; // (h, N)

  constructor(opts: SSMLayerOptions) {
    super("SSMLayer", opts);
    const init = opts.init ?? "hippo";
    if (init !== "hippo" && init !== "random") throw new Error(`${this.fn}: init must be "hippo" or "random", got ${JSON.stringify(init)}`);
    const { h, n: N, seed } = this;
    let A: Float32Array;
    if (init === "hippo") {
      const a = makeHiPPO(N).re;
      A = new Float32Array(h * N * N);
      for (let c = 0; c < h; c++) A.set(a, c * N * N);
    } else {
      A = seededNormal(h * N * N, subSeed(seed, "A"), 1 / Math.sqrt(N));
    }
    this.A = this.addParam("A", A, [h, N, N]);
    this.B = this.addParam("B", seededNormal(h * N, subSeed(seed, "B"), 1 / Math.sqrt(N)), [h, N]);
    this.C = this.addRealReadout();
  }

  /** Bilinear discretization for every channel at once: Ā (h, N, N), B̄ (h, N, 1). */
  discrete(): { Ab: tf.Tensor; Bb: tf.Tensor } {
    return tf.tidy(() => {
      const N = this.n;
      const step = tf.reshape(tf.exp(this.log_step), [this.h, 1, 1]); // (h, 1, 1)
      const I = tf.eye(N); // (N, N), broadcast over h
      const half = tf.mul(this.A, tf.div(step, 2)); // (h, N, N)
      const BL = inv(tf.sub(I, half)); // (h, N, N)
      return { Ab: tf.matMul(BL, tf.add(I, half)), Bb: tf.matMul(tf.mul(BL, step), tf.expandDims(this.B, -1)) };
    });
  }

  /** K̄_k = C Ā^k B̄ per channel: (h, l), by doubling the Krylov block [V, Ā^m V]. */
  kernel(): tf.Tensor {
    return tf.tidy(() => {
      const { Ab, Bb } = this.discrete();
      let V = Bb; // (h, N, m)
      let P = Ab; // (h, N, N) = Ā^m
      while ((V.shape[2] as number) < this.l) {
        V = tf.concat([V, tf.matMul(P, V)], 2);
        if ((V.shape[2] as number) < this.l) P = tf.matMul(P, P);
      }
      V = tf.slice(V, [0, 0, 0], [-1, -1, this.l]);
      return tf.squeeze(tf.matMul(tf.expandDims(this.C, 1), V), [1]); // (h, 1, l) → (h, l)
    });
  }

  /** CNN mode: u (b, l, h) → (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor {
    checkDims("SSMLayer.forward: u", u, [-1, this.l, this.h], `(b, l = ${this.l}, h = ${this.h})`);
    return convolveWithSkip(u, this.kernel(), this.D);
  }

  /** Ā (h, N, N) and B̄ (h, N) by the bilinear method, from the current parameters. */
  protected buildRecurrence(): SSMRecurrence {
    return tf.tidy(() => {
      const { Ab, Bb } = this.discrete();
      return { Ab, Bb: tf.squeeze(Bb, [2]) };
    });
  }

  /** Zero state: (b, h, N), real. */
  initState(b: number): tf.Tensor {
    checkIntArg("SSMLayer.initState", "b", b);
    return tf.zeros([b, this.h, this.n]);
  }

  /** x ← Ā x + B̄ u, y = C x + D u; u (b, h) → y (b, h). */
  step(state: tf.Tensor, u: tf.Tensor): { y: tf.Tensor; state: tf.Tensor } {
    const { Ab, Bb } = this.recurrence();
    if (!(state instanceof tf.Tensor)) throw new Error("SSMLayer.step: state must be a real (b, h, N) tensor from initState()");
    checkDims("SSMLayer.step: u", u, [-1, this.h], `(b, h = ${this.h})`);
    return tf.tidy(() => {
      const ax = tf.transpose(tf.matMul(Ab, tf.transpose(state, [1, 2, 0])), [2, 0, 1]); // (h, N, b) → (b, h, N)
      const x = tf.add(ax, tf.mul(Bb, tf.expandDims(u, -1)));
      const y = tf.add(tf.sum(tf.mul(this.C, x), -1), tf.mul(u, this.D));
      return { y, state: x };
    });
  }
}
