/**
 * The S4D layer: like S4Layer, but each channel's state matrix is diagonal (Λ only), so both the
 * kernel (a Vandermonde product) and the recurrence are elementwise. ZOH discretization.
 */
import * as tf from "@tensorflow/tfjs";
import * as cx from "../complex";
import { CTensor } from "../complex";
import { discretizeDiagonal, s4dInvInit, s4dKernel, s4dLinInit } from "../s4d";
import { checkDims, checkIntArg } from "../checks";
import { convolveWithSkip } from "./convolve-with-skip";
import { MAX_LAMBDA_RE, SSMLayerBase, SSMLayerBaseOptions, tile } from "./ssm-layer-base";

export interface S4DLayerOptions extends SSMLayerBaseOptions {
  /** "lin" (S4D-Lin, the default) or "inv" (S4D-Inv). */
  init?: "lin" | "inv";
}

/** The cached RNN system, complex: Ā = exp(ΔΛ) and B̄, both (h, N). */
type S4DRecurrence = { Ab: CTensor; Bb: CTensor };

export class S4DLayer extends SSMLayerBase<CTensor, S4DRecurrence> {
  readonly Lambda_re: tf.Variable; // (h, N)
  readonly Lambda_im: tf.Variable; // (h, N)
  readonly B_re: tf.Variable; // (h, N)
  readonly B_im: tf.Variable; // (h, N)
  readonly C_re: tf.Variable; // (h, N)
  readonly C_im: tf.Variable; // (h, N)

  constructor(opts: S4DLayerOptions) {
    super("S4DLayer", opts);
    const init = opts.init ?? "lin";
    if (init !== "lin" && init !== "inv") throw new Error(`${this.fn}: init must be "lin" or "inv", got ${JSON.stringify(init)}`);
    const { h, n: N } = this;
    const Lambda = init === "lin" ? s4dLinInit(N) : s4dInvInit(N);
    this.Lambda_re = this.addParam("Lambda_re", tile(Lambda.re, h), [h, N]);
    this.Lambda_im = this.addParam("Lambda_im", tile(Lambda.im, h), [h, N]);
    this.B_re = this.addParam("B_re", new Float32Array(h * N).fill(1), [h, N]);
    this.B_im = this.addParam("B_im", new Float32Array(h * N), [h, N]);
    const C = this.addComplexReadout(N);
    this.C_re = C.re;
    this.C_im = C.im;
  }

  private lambda(): CTensor {
    return { re: tf.minimum(this.Lambda_re, MAX_LAMBDA_RE), im: this.Lambda_im };
  }

  /** K̄ per channel: (h, l). */
  kernel(): tf.Tensor {
    return tf.tidy(() =>
      s4dKernel(this.lambda(), { re: this.B_re, im: this.B_im }, { re: this.C_re, im: this.C_im }, tf.exp(this.log_step), this.l, "zoh"),
    );
  }

  /** CNN mode: u (b, l, h) → (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor {
    checkDims("S4DLayer.forward: u", u, [-1, this.l, this.h], `(b, l = ${this.l}, h = ${this.h})`);
    return convolveWithSkip(u, this.kernel(), this.D);
  }

  /** Ā = exp(ΔΛ) and B̄ (h, N) from the current parameters (no C̃ folding in S4D). */
  protected buildRecurrence(): S4DRecurrence {
    return tf.tidy(() => {
      const dt = tf.expandDims(tf.exp(this.log_step), -1); // (h, 1)
      const { logAb, Bb } = discretizeDiagonal(this.lambda(), { re: this.B_re, im: this.B_im }, dt, "zoh");
      return { Ab: cx.exp(logAb), Bb };
    });
  }

  /** Zero state: (b, h, N) complex. */
  initState(b: number): CTensor {
    checkIntArg("S4DLayer.initState", "b", b);
    return { re: tf.zeros([b, this.h, this.n]), im: tf.zeros([b, this.h, this.n]) };
  }

  /** x ← Ā ⊙ x + B̄ u, y = 2 Re(C·x) + D u; u (b, h) → y (b, h). */
  step(state: CTensor, u: tf.Tensor): { y: tf.Tensor; state: CTensor } {
    const { Ab, Bb } = this.recurrence();
    if (state instanceof tf.Tensor || !("re" in state))
      throw new Error("S4DLayer.step: state must be a complex {re, im} state from initState()");
    checkDims("S4DLayer.step: u", u, [-1, this.h], `(b, h = ${this.h})`);
    return tf.tidy(() => {
      const u3 = tf.expandDims(u, -1); // (b, h, 1)
      const x = cx.add(cx.mul(Ab, state), cx.scaleBy(Bb, u3)); // (b, h, N)
      const cxp = cx.mul({ re: this.C_re, im: this.C_im }, x);
      const y = tf.add(tf.mul(2, tf.sum(cxp.re, -1)), tf.mul(u, this.D)); // (b, h)
      return { y, state: x };
    });
  }
}
