/**
 * The S4 layer: h independent single-input single-output SSMs, one per channel, each with its own
 * diagonal-plus-low-rank state matrix initialized from HiPPO-LegS. Training runs the convolution
 * (CNN) view; generation runs the same SSMs as a recurrence (RNN) one position at a time.
 */
import * as tf from "@tensorflow/tfjs";
import { CTensor } from "../complex";
import { makeDPLRHiPPO } from "../hippo";
import { discreteDPLR, kernelDPLR, rootsOfUnityPairs, spectrumPoints } from "../s4";
import { CVector } from "../linalg";
import { checkDims, checkIntArg } from "../checks";
import { convolveWithSkip } from "./convolve-with-skip";
import { MAX_LAMBDA_RE, SSMLayerBase, SSMLayerBaseOptions, tile } from "./ssm-layer-base";

export interface S4LayerOptions extends SSMLayerBaseOptions {
  /**
   * Store one mode of each conjugate pair, n/2 modes (n even), as the official S4 code does: the
   * SSM is the same real system of state size n, its kernel costs about half as much (see
   * kernelDPLR), and it has half the SSM parameters. Default false: all n modes, as in The
   * Annotated S4.
   */
  conjugatePairs?: boolean;
}

/**
 * The DPLR HiPPO-LegS modes a layer starts from: all n, or with conjugate pairs the n/2 modes of
 * positive frequency (Im Λ > 0), whose conjugates are the other half.
 */
export function hippoModes(n: number, conjugatePairs: boolean): { Lambda: CVector; P: CVector; B: CVector } {
  const hippo = makeDPLRHiPPO(n);
  if (!conjugatePairs) return hippo;
  const keep = Array.from({ length: n }, (_, i) => i).filter((i) => hippo.Lambda.im[i] > 0);
  if (keep.length !== n / 2)
    throw new Error(`hippoModes: expected ${n / 2} modes of positive frequency in HiPPO-LegS of size ${n}, found ${keep.length}`);
  const pick = (v: CVector): CVector => ({ re: Float64Array.from(keep, (i) => v.re[i]), im: Float64Array.from(keep, (i) => v.im[i]) });
  return { Lambda: pick(hippo.Lambda), P: pick(hippo.P), B: pick(hippo.B) };
}

/** The (b, h, N) complex update x ← Ā x + B̄ u with Ā (h, N, N), B̄ (h, N), u (b, h). */
export function complexStateStep(Ab: CTensor, Bb: CTensor, x: CTensor, u: tf.Tensor): CTensor {
  return tf.tidy(() => {
    // matmul over the channel batch: (h, N, N) @ (h, N, b) → (h, N, b)
    const xr = tf.transpose(x.re, [1, 2, 0]),
      xi = tf.transpose(x.im, [1, 2, 0]);
    const ar = tf.sub(tf.matMul(Ab.re, xr), tf.matMul(Ab.im, xi));
    const ai = tf.add(tf.matMul(Ab.re, xi), tf.matMul(Ab.im, xr));
    const u3 = tf.expandDims(u, -1); // (b, h, 1)
    return {
      re: tf.add(tf.transpose(ar, [2, 0, 1]), tf.mul(Bb.re, u3)),
      im: tf.add(tf.transpose(ai, [2, 0, 1]), tf.mul(Bb.im, u3)),
    };
  });
}

/** The cached RNN system, complex: Ā (h, N, N), B̄ (h, N), C̄ (h, N). */
type S4Recurrence = { Ab: CTensor; Bb: CTensor; Cb: CTensor };

export class S4Layer extends SSMLayerBase<CTensor, S4Recurrence> {
  readonly conjugatePairs: boolean;
  /** Modes stored per channel: N, or N/2 with conjugate pairs (the parameters below are (h, modes)). */
  readonly modes: number;
  readonly Lambda_re: tf.Variable; // (h, modes)
  readonly Lambda_im: tf.Variable; // (h, modes)
  readonly P_re: tf.Variable; // (h, modes)
  readonly P_im: tf.Variable; // (h, modes)
  readonly B_re: tf.Variable; // (h, modes)
  readonly B_im: tf.Variable; // (h, modes)
  readonly C_re: tf.Variable; // (h, modes), learned directly as C̃
  readonly C_im: tf.Variable; // (h, modes)
  /** The l roots of unity, (l, 2): made once, so that no training step uploads them again. */
  private readonly roots: tf.Tensor2D;
  /** MAX_LAMBDA_RE as a tensor made once (a number would be a new host tensor every step). */
  private readonly maxLambdaRe: tf.Scalar;

  constructor(opts: S4LayerOptions) {
    super("S4Layer", opts);
    const fn = this.fn;
    const { h, n: N, l } = this;
    const conjugatePairs = opts.conjugatePairs ?? false;
    if (typeof conjugatePairs !== "boolean") throw new Error(`${fn}: conjugatePairs must be a boolean, got ${String(conjugatePairs)}`);
    if (conjugatePairs && N % 2 !== 0)
      throw new Error(`${fn}: n must be even with conjugatePairs (n/2 modes and their conjugates), got ${N}`);
    this.conjugatePairs = conjugatePairs;
    const M = (this.modes = conjugatePairs ? N / 2 : N);
    const hippo = hippoModes(N, conjugatePairs);
    this.Lambda_re = this.addParam("Lambda_re", tile(hippo.Lambda.re, h), [h, M]);
    this.Lambda_im = this.addParam("Lambda_im", tile(hippo.Lambda.im, h), [h, M]);
    this.P_re = this.addParam("P_re", tile(hippo.P.re, h), [h, M]);
    this.P_im = this.addParam("P_im", tile(hippo.P.im, h), [h, M]);
    this.B_re = this.addParam("B_re", tile(hippo.B.re, h), [h, M]);
    this.B_im = this.addParam("B_im", tile(hippo.B.im, h), [h, M]);
    const C = this.addComplexReadout(M); // learned directly as C̃
    this.C_re = C.re;
    this.C_im = C.im;
    this.roots = rootsOfUnityPairs(l, spectrumPoints(l, conjugatePairs));
    this.maxLambdaRe = tf.scalar(MAX_LAMBDA_RE);
  }

  /** The SSM convolution kernel K̄ of every channel: (h, l). Differentiable in all SSM parameters. */
  kernel(): tf.Tensor {
    return tf.tidy(() => {
      const P = { re: this.P_re, im: this.P_im };
      return kernelDPLR(
        {
          Lambda: { re: tf.minimum(this.Lambda_re, this.maxLambdaRe), im: this.Lambda_im },
          P,
          Q: P,
          B: { re: this.B_re, im: this.B_im },
          C: { re: this.C_re, im: this.C_im },
        },
        tf.exp(this.log_step),
        this.l,
        this.roots,
        { conjugatePairs: this.conjugatePairs },
      );
    });
  }

  /** CNN mode: u (b, l, h) → y = K̄ ∗ u + D·u, (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor {
    checkDims("S4Layer.forward: u", u, [-1, this.l, this.h], `(b, l = ${this.l}, h = ${this.h})`);
    return convolveWithSkip(u, this.kernel(), this.D);
  }

  /** The parameters S4's discretization reads, in the order `discreteFromValues` takes them. */
  private recurrenceInputs(): tf.Variable[] {
    return [this.Lambda_re, this.Lambda_im, this.P_re, this.P_im, this.B_re, this.B_im, this.C_re, this.C_im, this.log_step];
  }

  /** Reads the parameters without blocking (the path of `setupRecurrence`). */
  protected override async buildRecurrenceAsync(): Promise<S4Recurrence> {
    const values = await Promise.all(this.recurrenceInputs().map((v) => v.data() as Promise<Float32Array>));
    return this.discreteFromValues(values);
  }

  /** Reads the parameters synchronously: RNN mode rebuilding after a parameter change. */
  protected buildRecurrence(): S4Recurrence {
    let values: Float32Array[];
    try {
      values = this.recurrenceInputs().map((v) => v.dataSync() as Float32Array);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const what = "the parameters changed since setupRecurrence(), and this backend cannot read them synchronously";
      throw new Error(`S4Layer: ${what} (${why}); await setupRecurrence() again`);
    }
    return this.discreteFromValues(values);
  }

  /**
   * Ā (h, N, N), B̄ (h, N), C̄ (h, N) per channel, computed in float64 from the parameters' values
   * (C̄ undoes the C̃ folding for length l), as float32 tensors.
   */
  private discreteFromValues([lr, li, pr, pi, br, bi, cr, ci, ls]: Float32Array[]): S4Recurrence {
    const { h, n: N } = this;
    const out = {
      Ab: { re: new Float32Array(h * N * N), im: new Float32Array(h * N * N) },
      Bb: { re: new Float32Array(h * N), im: new Float32Array(h * N) },
      Cb: { re: new Float32Array(h * N), im: new Float32Array(h * N) },
    };
    // Channel c's modes in float64, each followed by its conjugate with conjugate pairs: (N).
    const M = this.modes;
    const row = (re: Float32Array, im: Float32Array, c: number, clampRe = false): CVector => {
      const r = Float64Array.from(re.subarray(c * M, (c + 1) * M), (x) => (clampRe ? Math.min(x, MAX_LAMBDA_RE) : x));
      const i = Float64Array.from(im.subarray(c * M, (c + 1) * M));
      if (!this.conjugatePairs) return { re: r, im: i };
      const full = { re: new Float64Array(N), im: new Float64Array(N) };
      full.re.set(r);
      full.re.set(r, M);
      full.im.set(i);
      full.im.set(
        i.map((x) => -x),
        M,
      );
      return full;
    };
    for (let c = 0; c < h; c++) {
      const P = row(pr, pi, c);
      const d = discreteDPLR(row(lr, li, c, true), P, P, row(br, bi, c), row(cr, ci, c), Math.exp(ls[c]), this.l);
      out.Ab.re.set(d.Ab.re, c * N * N);
      out.Ab.im.set(d.Ab.im, c * N * N);
      out.Bb.re.set(d.Bb.re, c * N);
      out.Bb.im.set(d.Bb.im, c * N);
      out.Cb.re.set(d.Cb.re, c * N);
      out.Cb.im.set(d.Cb.im, c * N);
    }
    const t = (v: { re: Float32Array; im: Float32Array }, shape: number[]): CTensor => ({
      re: tf.tensor(v.re, shape),
      im: tf.tensor(v.im, shape),
    });
    return { Ab: t(out.Ab, [h, N, N]), Bb: t(out.Bb, [h, N]), Cb: t(out.Cb, [h, N]) };
  }

  /** Zero state: (b, h, N) complex. */
  initState(b: number): CTensor {
    checkIntArg("S4Layer.initState", "b", b);
    return { re: tf.zeros([b, this.h, this.n]), im: tf.zeros([b, this.h, this.n]) };
  }

  /** RNN mode, one position: x ← Ā x + B̄ u, y = Re(C̄ x) + D u; u (b, h) → y (b, h). */
  step(state: CTensor, u: tf.Tensor): { y: tf.Tensor; state: CTensor } {
    const { Ab, Bb, Cb } = this.recurrence();
    if (state instanceof tf.Tensor || !("re" in state))
      throw new Error("S4Layer.step: state must be a complex {re, im} state from initState()");
    checkDims("S4Layer.step: u", u, [-1, this.h], `(b, h = ${this.h})`);
    checkDims("S4Layer.step: state.re", state.re, [u.shape[0], this.h, this.n], `(b = ${u.shape[0]}, h = ${this.h}, N = ${this.n})`);
    return tf.tidy(() => {
      const x = complexStateStep(Ab, Bb, state, u); // (b, h, N)
      const y = tf.add(tf.sum(tf.sub(tf.mul(Cb.re, x.re), tf.mul(Cb.im, x.im)), -1), tf.mul(u, this.D)); // (b, h)
      return { y, state: x };
    });
  }

  override dispose(): void {
    tf.dispose([this.roots, this.maxLambdaRe]);
    super.dispose();
  }
}
