/**
 * The plain SSM layer: each of the h channels learns a dense real state matrix A (N, N), with B,
 * C, D and a step. The kernel is the bilinear discretization followed by the Krylov powers
 * Ā^k B̄, batched over channels. O(N²L) work: a reference layer for small N, not a fast one.
 */
import * as tf from "@tensorflow/tfjs";
import { makeHiPPO } from "../hippo";
import { inv } from "../linalg";
import { LayerState, Module, SequenceLayer, checkDims, checkIntArg, checkSeed, seededNormal, subSeed, convolveWithSkip } from "./module";
import { checkStepRange, initLogStep } from "./s4-layer";

export interface SSMLayerOptions {
  h: number;
  n: number;
  l: number;
  /** "hippo" (HiPPO-LegS A, the default) or "random" (N(0, 1/N) entries). */
  init?: "hippo" | "random";
  seed?: number;
  dtMin?: number;
  dtMax?: number;
}

export class SSMLayer extends Module implements SequenceLayer {
  readonly h: number;
  readonly n: number;
  readonly l: number;
  readonly A: tf.Variable; // (h, N, N)
  readonly B: tf.Variable; // (h, N)
  readonly C: tf.Variable; // (h, N)
  readonly D: tf.Variable; // (h)
  readonly log_step: tf.Variable; // (h)
  private rnn: { Ab: tf.Tensor; Bb: tf.Tensor } | null = null;

  constructor(opts: SSMLayerOptions) {
    super();
    const fn = "SSMLayer";
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    const h = checkIntArg(fn, "h", opts.h), N = checkIntArg(fn, "n", opts.n), l = checkIntArg(fn, "l", opts.l);
    const seed = checkSeed(fn, opts.seed ?? 0);
    const init = opts.init ?? "hippo";
    if (init !== "hippo" && init !== "random") throw new Error(`${fn}: init must be "hippo" or "random", got ${JSON.stringify(init)}`);
    const dtMin = opts.dtMin ?? 1e-3, dtMax = opts.dtMax ?? 1e-1;
    checkStepRange(fn, dtMin, dtMax);
    this.h = h; this.n = N; this.l = l;
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
    this.C = this.addParam("C", seededNormal(h * N, subSeed(seed, "C"), 1 / Math.sqrt(N)), [h, N]);
    this.D = this.addParam("D", seededNormal(h, subSeed(seed, "D")), [h]);
    this.log_step = this.addParam("log_step", initLogStep(h, dtMin, dtMax, subSeed(seed, "log_step")), [h]);
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

  async setupRecurrence(): Promise<void> {
    this.disposeRecurrence();
    this.rnn = tf.tidy(() => {
      const { Ab, Bb } = this.discrete();
      return { Ab, Bb: tf.squeeze(Bb, [2]) };
    });
  }

  disposeRecurrence(): void {
    if (this.rnn) tf.dispose([this.rnn.Ab, this.rnn.Bb]);
    this.rnn = null;
  }

  /** Zero state: (b, h, N), real. */
  initState(b: number): tf.Tensor {
    checkIntArg("SSMLayer.initState", "b", b);
    return tf.zeros([b, this.h, this.n]);
  }

  /** x ← Ā x + B̄ u, y = C x + D u; u (b, h) → y (b, h). */
  step(state: LayerState, u: tf.Tensor): { y: tf.Tensor; state: tf.Tensor } {
    if (!this.rnn) throw new Error("SSMLayer: call (and await) setupRecurrence() before using RNN mode");
    if (!(state instanceof tf.Tensor)) throw new Error("SSMLayer.step: state must be a real (b, h, N) tensor from initState()");
    checkDims("SSMLayer.step: u", u, [-1, this.h], `(b, h = ${this.h})`);
    const { Ab, Bb } = this.rnn;
    return tf.tidy(() => {
      const ax = tf.transpose(tf.matMul(Ab, tf.transpose(state, [1, 2, 0])), [2, 0, 1]); // (h, N, b) → (b, h, N)
      const x = tf.add(ax, tf.mul(Bb, tf.expandDims(u, -1)));
      const y = tf.add(tf.sum(tf.mul(this.C, x), -1), tf.mul(u, this.D));
      return { y, state: x };
    });
  }

  override dispose(): void {
    this.disposeRecurrence();
    super.dispose();
  }
}
