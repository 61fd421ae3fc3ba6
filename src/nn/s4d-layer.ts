/**
 * The S4D layer: like S4Layer, but each channel's state matrix is diagonal (Λ only), so both the
 * kernel (a Vandermonde product) and the recurrence are elementwise. ZOH discretization.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "../complex";
import { CTensor } from "../complex";
import { discretizeDiagonal, s4dInvInit, s4dKernel, s4dLinInit } from "../s4d";
import { LayerState, Module, SequenceLayer, checkDims, checkIntArg, checkSeed, seededNormal, subSeed, convolveWithSkip } from "./module";
import { MAX_LAMBDA_RE, checkStepRange, initLogStep, tile } from "./s4-layer";

export interface S4DLayerOptions {
  h: number;
  n: number;
  l: number;
  /** "lin" (S4D-Lin, the default) or "inv" (S4D-Inv). */
  init?: "lin" | "inv";
  seed?: number;
  dtMin?: number;
  dtMax?: number;
}

export class S4DLayer extends Module implements SequenceLayer {
  readonly h: number;
  readonly n: number;
  readonly l: number;
  readonly Lambda_re: tf.Variable; // (h, N)
  readonly Lambda_im: tf.Variable; // (h, N)
  readonly B_re: tf.Variable; // (h, N)
  readonly B_im: tf.Variable; // (h, N)
  readonly C_re: tf.Variable; // (h, N)
  readonly C_im: tf.Variable; // (h, N)
  readonly D: tf.Variable; // (h)
  readonly log_step: tf.Variable; // (h)
  private rnn: { Ab: CTensor; Bb: CTensor } | null = null;

  constructor(opts: S4DLayerOptions) {
    super();
    const fn = "S4DLayer";
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    const h = checkIntArg(fn, "h", opts.h), N = checkIntArg(fn, "n", opts.n), l = checkIntArg(fn, "l", opts.l);
    const seed = checkSeed(fn, opts.seed ?? 0);
    const init = opts.init ?? "lin";
    if (init !== "lin" && init !== "inv") throw new Error(`${fn}: init must be "lin" or "inv", got ${JSON.stringify(init)}`);
    const dtMin = opts.dtMin ?? 1e-3, dtMax = opts.dtMax ?? 1e-1;
    checkStepRange(fn, dtMin, dtMax);
    this.h = h; this.n = N; this.l = l;
    const Lambda = init === "lin" ? s4dLinInit(N) : s4dInvInit(N);
    this.Lambda_re = this.addParam("Lambda_re", tile(Lambda.re, h), [h, N]);
    this.Lambda_im = this.addParam("Lambda_im", tile(Lambda.im, h), [h, N]);
    this.B_re = this.addParam("B_re", new Float32Array(h * N).fill(1), [h, N]);
    this.B_im = this.addParam("B_im", new Float32Array(h * N), [h, N]);
    this.C_re = this.addParam("C_re", seededNormal(h * N, subSeed(seed, "C_re"), Math.SQRT1_2), [h, N]);
    this.C_im = this.addParam("C_im", seededNormal(h * N, subSeed(seed, "C_im"), Math.SQRT1_2), [h, N]);
    this.D = this.addParam("D", seededNormal(h, subSeed(seed, "D")), [h]);
    this.log_step = this.addParam("log_step", initLogStep(h, dtMin, dtMax, subSeed(seed, "log_step")), [h]);
  }

  private lambda(): CTensor {
    return { re: tf.minimum(this.Lambda_re, MAX_LAMBDA_RE), im: this.Lambda_im };
  }

  /** K̄ per channel: (h, l). */
  kernel(): tf.Tensor {
    return tf.tidy(() => s4dKernel(this.lambda(), { re: this.B_re, im: this.B_im }, { re: this.C_re, im: this.C_im }, tf.exp(this.log_step), this.l, "zoh"));
  }

  /** CNN mode: u (b, l, h) → (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor {
    checkDims("S4DLayer.forward: u", u, [-1, this.l, this.h], `(b, l = ${this.l}, h = ${this.h})`);
    return convolveWithSkip(u, this.kernel(), this.D);
  }

  /** Caches Ā = exp(ΔΛ) and B̄ (h, N) from the current parameters (no C̃ folding in S4D). */
  async setupRecurrence(): Promise<void> {
    this.disposeRecurrence();
    this.rnn = tf.tidy(() => {
      const dt = tf.expandDims(tf.exp(this.log_step), -1); // (h, 1)
      const { logAb, Bb } = discretizeDiagonal(this.lambda(), { re: this.B_re, im: this.B_im }, dt, "zoh");
      return { Ab: cx.exp(logAb), Bb };
    });
  }

  disposeRecurrence(): void {
    if (this.rnn) tf.dispose([this.rnn.Ab.re, this.rnn.Ab.im, this.rnn.Bb.re, this.rnn.Bb.im]);
    this.rnn = null;
  }

  /** Zero state: (b, h, N) complex. */
  initState(b: number): CTensor {
    checkIntArg("S4DLayer.initState", "b", b);
    return { re: tf.zeros([b, this.h, this.n]), im: tf.zeros([b, this.h, this.n]) };
  }

  /** x ← Ā ⊙ x + B̄ u, y = 2 Re(C·x) + D u; u (b, h) → y (b, h). */
  step(state: LayerState, u: tf.Tensor): { y: tf.Tensor; state: CTensor } {
    if (!this.rnn) throw new Error("S4DLayer: call (and await) setupRecurrence() before using RNN mode");
    if (state instanceof tf.Tensor || !("re" in state)) throw new Error("S4DLayer.step: state must be a complex {re, im} state from initState()");
    checkDims("S4DLayer.step: u", u, [-1, this.h], `(b, h = ${this.h})`);
    const { Ab, Bb } = this.rnn;
    return tf.tidy(() => {
      const u3 = tf.expandDims(u, -1); // (b, h, 1)
      const x = cx.add(cx.mul(Ab, state), cx.scaleBy(Bb, u3)); // (b, h, N)
      const cxp = cx.mul({ re: this.C_re, im: this.C_im }, x);
      const y = tf.add(tf.mul(2, tf.sum(cxp.re, -1)), tf.mul(u, this.D)); // (b, h)
      return { y, state: x };
    });
  }

  override dispose(): void {
    this.disposeRecurrence();
    super.dispose();
  }
}
