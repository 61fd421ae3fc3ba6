/**
 * What the three SSM layers (SSMLayer, S4Layer, S4DLayer) share: their size options and checks,
 * the readout C, the skip D and the log step size, and the cache of the discrete RNN matrices
 * with the rule that keeps it in step with the parameters.
 *
 * The cache is keyed on the parameters' storage: tf.Variable.assign (the optimizer's step, a
 * checkpoint load, loadTorchParams, a user's assign) gives a variable a new dataId, so RNN mode
 * notices any change and rebuilds before its next step instead of running stale matrices.
 */
import * as tf from "@tensorflow/tfjs";
import { checkIntArg, checkSeed } from "../checks";
import type { CTensor } from "../complex";
import { mulberry32, seededNormal, subSeed } from "../random";
import { Module } from "./module";
import type { LayerState, SequenceLayer } from "./sequence-layer";

/** The options every SSM layer takes. */
export interface SSMLayerBaseOptions {
  /** Channels (the model width, d_model). */
  h: number;
  /** State size N per channel. */
  n: number;
  /** Sequence length the kernel is built for. */
  l: number;
  seed?: number;
  /** The initial step sizes Δ are log-uniform in [dtMin, dtMax]. Defaults 1e-3, 1e-1. */
  dtMin?: number;
  dtMax?: number;
}

/** Upper bound on Re Λ in use, so every mode stays strictly stable during training. */
export const MAX_LAMBDA_RE = -1e-4;

export function checkStepRange(fn: string, dtMin: unknown, dtMax: unknown): void {
  if (typeof dtMin !== "number" || !(dtMin > 0) || !Number.isFinite(dtMin)) {
    throw new Error(`${fn}: dtMin must be a finite number > 0, got ${String(dtMin)}`);
  }
  if (typeof dtMax !== "number" || !(dtMax >= dtMin) || !Number.isFinite(dtMax)) {
    throw new Error(`${fn}: dtMax must be a finite number ≥ dtMin = ${dtMin}, got ${String(dtMax)}`);
  }
}

/** log Δ, (h): uniform in [log dtMin, log dtMax]. */
export function initLogStep(h: number, dtMin: number, dtMax: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const lo = Math.log(dtMin),
    hi = Math.log(dtMax);
  return Float32Array.from({ length: h }, () => lo + r() * (hi - lo));
}

/** Repeats a length-N float64 vector h times: (h, N) row-major. */
export function tile(v: Float64Array, h: number): Float32Array {
  const N = v.length,
    out = new Float32Array(h * N);
  for (let i = 0; i < h; i++) for (let n = 0; n < N; n++) out[i * N + n] = v[n];
  return out;
}

/** The cached discrete system of a layer: named tensors, real or complex. */
export type RecurrenceTensors = Record<string, tf.Tensor | CTensor>;

function recurrenceTensors(rnn: RecurrenceTensors): tf.Tensor[] {
  return Object.values(rnn).flatMap((p) => (p instanceof tf.Tensor ? [p] : [p.re, p.im]));
}

export abstract class SSMLayerBase<State extends LayerState, Rnn extends RecurrenceTensors> extends Module implements SequenceLayer<State> {
  readonly h: number;
  /** State size N per channel. */
  readonly n: number;
  readonly l: number;
  protected readonly seed: number;
  private readonly dtMin: number;
  private readonly dtMax: number;
  private skipAndStep: { D: tf.Variable; log_step: tf.Variable } | null = null;
  private rnn: Rnn | null = null;
  /** The parameters' dataIds when `rnn` was built (see the file comment). */
  private rnnKey: object[] = [];

  /** Checks the shared options; `fn` names the layer in error messages. */
  protected constructor(
    protected readonly fn: string,
    opts: SSMLayerBaseOptions,
  ) {
    super();
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    this.h = checkIntArg(fn, "h", opts.h);
    this.n = checkIntArg(fn, "n", opts.n);
    this.l = checkIntArg(fn, "l", opts.l);
    this.seed = checkSeed(fn, opts.seed ?? 0);
    this.dtMin = opts.dtMin ?? 1e-3;
    this.dtMax = opts.dtMax ?? 1e-1;
    checkStepRange(fn, this.dtMin, this.dtMax);
  }

  /** The skip weight D: (h). */
  get D(): tf.Variable {
    return this.shared().D;
  }

  /** log Δ, the learned step size of every channel: (h). */
  get log_step(): tf.Variable {
    return this.shared().log_step;
  }

  private shared(): { D: tf.Variable; log_step: tf.Variable } {
    if (!this.skipAndStep) {
      throw new Error(`${this.fn}: the layer's constructor must add its readout (addRealReadout or addComplexReadout)`);
    }
    return this.skipAndStep;
  }

  /** Adds D (h) ~ N(0, 1) and log_step (h), after C: the last parameters of every SSM layer. */
  private addSkipAndStep(): void {
    const { h, seed } = this;
    this.skipAndStep = {
      D: this.addParam("D", seededNormal(h, subSeed(seed, "D")), [h]),
      log_step: this.addParam("log_step", initLogStep(h, this.dtMin, this.dtMax, subSeed(seed, "log_step")), [h]),
    };
  }

  /** A real readout C (h, N) ~ N(0, 1/N), then D and log_step. Call last in the constructor. */
  protected addRealReadout(): tf.Variable {
    const { h, n: N, seed } = this;
    const C = this.addParam("C", seededNormal(h * N, subSeed(seed, "C"), 1 / Math.sqrt(N)), [h, N]);
    this.addSkipAndStep();
    return C;
  }

  /**
   * A complex readout C̃ (h, modes) with E|C̃|² = 1 (each part of variance ½), then D and
   * log_step. Call last in the constructor.
   */
  protected addComplexReadout(modes: number): { re: tf.Variable; im: tf.Variable } {
    const { h, seed } = this;
    const re = this.addParam("C_re", seededNormal(h * modes, subSeed(seed, "C_re"), Math.SQRT1_2), [h, modes]);
    const im = this.addParam("C_im", seededNormal(h * modes, subSeed(seed, "C_im"), Math.SQRT1_2), [h, modes]);
    this.addSkipAndStep();
    return { re, im };
  }

  abstract forward(u: tf.Tensor): tf.Tensor;
  abstract initState(b: number): State;
  abstract step(state: State, u: tf.Tensor): { y: tf.Tensor; state: State };

  /** The discrete RNN system from the parameters' current values, computed synchronously. */
  protected abstract buildRecurrence(): Rnn;

  /** The same, for `setupRecurrence`; layers that read parameters on the host read them here without blocking. */
  protected async buildRecurrenceAsync(): Promise<Rnn> {
    return this.buildRecurrence();
  }

  private parameterKey(): object[] {
    return Object.values(this.parameters()).map((v) => v.dataId);
  }

  /** Builds the discrete RNN matrices from the parameters' current values and caches them. */
  async setupRecurrence(): Promise<void> {
    const key = this.parameterKey(); // before the reads: a change during them marks the result stale
    this.cacheRecurrence(key, await this.buildRecurrenceAsync());
  }

  /** True when a parameter has been assigned since the RNN matrices were built. */
  recurrenceIsStale(): boolean {
    const key = this.parameterKey();
    return key.length !== this.rnnKey.length || key.some((id, i) => id !== this.rnnKey[i]);
  }

  /**
   * The cached RNN matrices (after `setupRecurrence`), rebuilt first when a parameter has changed
   * since they were made.
   */
  recurrence(): Rnn {
    if (!this.rnn) throw new Error(`${this.fn}: call (and await) setupRecurrence() before using RNN mode`);
    if (this.recurrenceIsStale()) this.cacheRecurrence(this.parameterKey(), this.buildRecurrence());
    return this.rnn;
  }

  /**
   * Replaces the cache. The tensors are kept: a rebuild runs inside the step's tf.tidy, which
   * would otherwise free them when the step ends.
   */
  private cacheRecurrence(key: object[], rnn: Rnn): void {
    for (const t of recurrenceTensors(rnn)) tf.keep(t);
    this.disposeRecurrence();
    this.rnn = rnn;
    this.rnnKey = key;
  }

  disposeRecurrence(): void {
    if (this.rnn) tf.dispose(recurrenceTensors(this.rnn));
    this.rnn = null;
    this.rnnKey = [];
  }

  override dispose(): void {
    this.disposeRecurrence();
    super.dispose();
  }
}
