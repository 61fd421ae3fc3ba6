/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
 * Regularization"), with parameter groups and optional global gradient-norm clipping.
 *
 * For each parameter p with gradient g, at step t (counted from 1):
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
 *   p ← p − lr·(m̂ / (√v̂ + ε) + wd·p)        (wd·p uses the value of p before this step)
 *
 * Each parameter's moments are kept packed as one variable mv: (2, ...shape), so that one fused
 * kernel per parameter (kernels/adamw-update) reads and writes everything a step changes, with the
 * constants as attributes: a step uploads nothing from the host. Where that kernel does not exist
 * (e.g. tfjs-node) the same math runs as tf ops, with its constants made once and kept.
 */
import * as tf from "@tensorflow/tfjs";
import { adamwUpdate } from "../kernels/adamw-update";
import { sumOfSquares } from "../kernels/sum-of-squares";
import { ScalarCache } from "./scalar-cache";

/** Last name components that mark a structured state space parameter in the S4 recipe. */
export const SSM_PARAM_NAMES: readonly string[] = ["Lambda_re", "Lambda_im", "P_re", "P_im", "B_re", "B_im", "log_step", "A", "A_log"];

/** True when the last dotted component of `name` is one of SSM_PARAM_NAMES. */
export function isSsmParam(name: string): boolean {
  const last = name.slice(name.lastIndexOf(".") + 1);
  return SSM_PARAM_NAMES.includes(last);
}

/**
 * A parameter group. Parameters are assigned to the first group whose `match` accepts their
 * name; parameters that match no group use the optimizer's defaults (lr multiplier 1 and the
 * default weight decay).
 */
export interface ParamGroup {
  name: string;
  match: (paramName: string) => boolean;
  /**
   * Learning-rate MULTIPLIER (not an absolute rate): the group's rate is this times the rate
   * passed to `step`, so it follows the schedule. Default 1.
   */
  lr?: number;
  /** Decoupled weight decay coefficient for the group; defaults to the optimizer's default. */
  weightDecay?: number;
}

/**
 * The S4 recipe: SSM parameters (see isSsmParam) get `ssmLrScale` × the scheduled rate
 * (0.1 by default) and no weight decay; everything else falls through to the defaults.
 */
export function s4ParamGroups(opts: { ssmLrScale?: number; ssmWeightDecay?: number } = {}): ParamGroup[] {
  const ssmLrScale = opts.ssmLrScale ?? 0.1;
  const ssmWeightDecay = opts.ssmWeightDecay ?? 0;
  checkNonNegative("ssmLrScale", ssmLrScale);
  checkNonNegative("ssmWeightDecay", ssmWeightDecay);
  return [{ name: "ssm", match: isSsmParam, lr: ssmLrScale, weightDecay: ssmWeightDecay }];
}

export interface AdamWOptions {
  /** Rate used when `step` is called without one. Default 1e-3. */
  lr?: number;
  /** (β1, β2), each in [0, 1). Default (0.9, 0.999). */
  betas?: [number, number];
  /** Added to √v̂ in the denominator. Default 1e-8. */
  eps?: number;
  /** Default decoupled weight decay for parameters outside any group. Default 0.01. */
  weightDecay?: number;
  /**
   * When set, all gradients are scaled by clipNorm / ‖g‖ whenever the global L2 norm ‖g‖ over
   * every gradient passed to `step` exceeds clipNorm (no epsilon is added to the norm).
   */
  clipNorm?: number;
}

/** Optimizer state: step count plus first/second moments named "m.<param>" and "v.<param>". */
export interface AdamWState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

interface Slot {
  param: tf.Variable;
  /** (2, ...param's shape): the first moment m in mv[0], the second v in mv[1]. */
  mv: tf.Variable;
  lrScale: number;
  weightDecay: number;
  group: string;
}

function checkNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new Error(`${name} must be a finite number >= 0, got ${value}`);
  }
}

/** g itself when float32 (a cast would still cost a kernel), else a float32 copy. */
function asFloat32(g: tf.Tensor): tf.Tensor {
  return g.dtype === "float32" ? g : tf.cast(g, "float32");
}

function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly defaultLr: number;
  readonly defaultWeightDecay: number;
  readonly clipNorm: number | undefined;
  private slots = new Map<string, Slot>();
  /** Scalar constants of the tf-ops path and of clipping (β's, ε, weight decays, clipNorm, 0). */
  private constants: ScalarCache;
  private stepCount = 0;
  private disposed = false;

  constructor(params: Record<string, tf.Variable>, groups: ParamGroup[] = [], opts: AdamWOptions = {}) {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01, clipNorm } = opts;
    checkNonNegative("opts.lr", lr);
    if (!Array.isArray(betas) || betas.length !== 2) {
      throw new Error(`opts.betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
    }
    betas.forEach((b, i) => {
      if (!(Number.isFinite(b) && b >= 0 && b < 1)) {
        throw new Error(`opts.betas[${i}] must be a number in [0, 1), got ${b}`);
      }
    });
    if (!(Number.isFinite(eps) && eps > 0)) throw new Error(`opts.eps must be a finite number > 0, got ${eps}`);
    checkNonNegative("opts.weightDecay", weightDecay);
    if (clipNorm !== undefined && !(Number.isFinite(clipNorm) && clipNorm > 0)) {
      throw new Error(`opts.clipNorm must be a finite number > 0 when given, got ${clipNorm}`);
    }
    if (!Array.isArray(groups)) throw new Error(`groups must be an array of parameter groups, got ${typeof groups}`);
    groups.forEach((g, i) => {
      if (!g || typeof g.name !== "string" || typeof g.match !== "function") {
        throw new Error(`groups[${i}] must have a string name and a match function, got ${JSON.stringify(g)}`);
      }
      if (g.lr !== undefined) checkNonNegative(`groups[${i}].lr (group "${g.name}")`, g.lr);
      if (g.weightDecay !== undefined) checkNonNegative(`groups[${i}].weightDecay (group "${g.name}")`, g.weightDecay);
    });
    if (params === null || typeof params !== "object") {
      throw new Error(`params must be a Record<string, tf.Variable>, got ${params}`);
    }
    this.beta1 = betas[0];
    this.beta2 = betas[1];
    this.eps = eps;
    this.defaultLr = lr;
    this.defaultWeightDecay = weightDecay;
    this.clipNorm = clipNorm;
    const weightDecays = new Set<number>([weightDecay]);
    for (const [name, p] of Object.entries(params)) {
      if (!(p instanceof tf.Variable)) {
        throw new Error(`params["${name}"] must be a tf.Variable, got ${p === null ? "null" : typeof p}`);
      }
      if (p.dtype !== "float32") {
        throw new Error(`params["${name}"] must have dtype float32, got ${p.dtype}`);
      }
      const group = groups.find((g) => g.match(name));
      this.slots.set(name, {
        param: p,
        // tidy frees the zeros the variable copies from
        mv: tf.tidy(() => tf.variable(tf.zeros([2, ...p.shape]), false, undefined, "float32")),
        lrScale: group?.lr ?? 1,
        weightDecay: group?.weightDecay ?? weightDecay,
        group: group?.name ?? "default",
      });
      weightDecays.add(group?.weightDecay ?? weightDecay);
    }
    this.constants = new ScalarCache([
      this.beta1,
      1 - this.beta1,
      this.beta2,
      1 - this.beta2,
      eps,
      0,
      ...weightDecays,
      ...(clipNorm === undefined ? [] : [clipNorm]),
    ]);
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.stepCount;
  }

  /** Group name, lr multiplier and weight decay chosen for each parameter. */
  describe(): Record<string, { group: string; lrScale: number; weightDecay: number }> {
    const out: Record<string, { group: string; lrScale: number; weightDecay: number }> = {};
    for (const [name, s] of this.slots) out[name] = { group: s.group, lrScale: s.lrScale, weightDecay: s.weightDecay };
    return out;
  }

  /**
   * Applies one update. `grads` may cover a subset of the parameters (the rest are left alone,
   * moments included); bias correction uses the optimizer's global step count. `lr` is the
   * scheduled rate; each group multiplies it by its own `lr`. When clipNorm is set, returns the
   * global gradient norm before clipping as a scalar tensor (the caller reads it asynchronously
   * and disposes it); an update whose norm is not finite is skipped. Otherwise undefined.
   */
  step(grads: Record<string, tf.Tensor>, lr: number = this.defaultLr): tf.Scalar | undefined {
    this.checkAlive();
    if (!(typeof lr === "number" && Number.isFinite(lr) && lr >= 0)) {
      throw new Error(`lr must be a finite number >= 0, got ${lr}`);
    }
    if (grads === null || typeof grads !== "object") {
      throw new Error(`grads must be a Record<string, tf.Tensor>, got ${grads}`);
    }
    const names = Object.keys(grads);
    for (const name of names) {
      const slot = this.slots.get(name);
      if (!slot) {
        throw new Error(
          `grads has unknown parameter "${name}"; expected one of the optimizer's parameters (${[...this.slots.keys()].join(", ")})`,
        );
      }
      const g = grads[name];
      if (!(g instanceof tf.Tensor)) throw new Error(`grads["${name}"] must be a tf.Tensor, got ${g === null ? "null" : typeof g}`);
      if (g.isDisposed) throw new Error(`grads["${name}"] is disposed`);
      if (!tf.util.arraysEqual(g.shape, slot.param.shape)) {
        throw new Error(`grads["${name}"] must have the parameter's shape ${shapeStr(slot.param.shape)}, got ${shapeStr(g.shape)}`);
      }
    }
    if (names.length === 0) return undefined;

    // Clipping stays on the device (a host read each step would stall a GPU and fails on WebGPU in
    // Node): scale = clipNorm / max(‖g‖, clipNorm), and 0 (skip the update) when ‖g‖ is not finite.
    let norm: tf.Scalar | undefined;
    let scale: tf.Scalar | undefined;
    if (this.clipNorm !== undefined) {
      const clip = this.constants.get(this.clipNorm),
        zero = this.constants.get(0);
      [norm, scale] = tf.tidy(() => {
        const nrm = tf.sqrt(tf.addN(names.map((n) => sumOfSquares(asFloat32(grads[n]))))) as tf.Scalar;
        return [nrm, tf.where(tf.isFinite(nrm), tf.div(clip, tf.maximum(nrm, clip)), zero) as tf.Scalar];
      });
    }

    const t = this.stepCount + 1;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    try {
      tf.tidy(() => {
        for (const name of names) {
          const s = this.slots.get(name)!;
          const attrs = { lr: lr * s.lrScale, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: s.weightDecay, bc1, bc2 };
          const [p, mv] = adamwUpdate(s.param, asFloat32(grads[name]), s.mv, attrs, scale, this.constants.get);
          s.param.assign(p);
          s.mv.assign(mv);
        }
      });
    } catch (e) {
      norm?.dispose();
      throw e;
    } finally {
      scale?.dispose();
      this.constants.release();
    }
    this.stepCount = t;
    return norm;
  }

  /** A copy of the optimizer state; the caller owns (and disposes) the returned tensors. */
  getState(): AdamWState {
    this.checkAlive();
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.slots) [tensors[`m.${name}`], tensors[`v.${name}`]] = tf.unstack(s.mv);
    return { step: this.stepCount, tensors };
  }

  /**
   * Restores a state from getState (or a checkpoint). Every parameter's "m.<name>" and
   * "v.<name>" must be present with the parameter's shape, and nothing else; values are copied,
   * so the caller keeps ownership of `state.tensors`.
   */
  setState(state: AdamWState): void {
    this.checkAlive();
    if (!state || typeof state !== "object") throw new Error(`state must be { step, tensors }, got ${state}`);
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new Error(`state.step must be an integer >= 0, got ${state.step}`);
    }
    const tensors = state.tensors ?? {};
    const expected = new Set<string>();
    for (const [name, s] of this.slots) {
      for (const key of [`m.${name}`, `v.${name}`]) {
        expected.add(key);
        const t = tensors[key];
        if (!(t instanceof tf.Tensor)) throw new Error(`state.tensors is missing "${key}" (a tensor of shape ${shapeStr(s.param.shape)})`);
        if (!tf.util.arraysEqual(t.shape, s.param.shape)) {
          throw new Error(`state.tensors["${key}"] must have shape ${shapeStr(s.param.shape)}, got ${shapeStr(t.shape)}`);
        }
      }
    }
    const extra = Object.keys(tensors).filter((k) => !expected.has(k));
    if (extra.length) throw new Error(`state.tensors has unknown entries: ${extra.join(", ")}`);
    tf.tidy(() => {
      for (const [name, s] of this.slots) {
        s.mv.assign(tf.stack([tf.cast(tensors[`m.${name}`], "float32"), tf.cast(tensors[`v.${name}`], "float32")]));
      }
    });
    this.stepCount = state.step;
  }

  /** Frees the moment tensors; the parameters themselves belong to the model. */
  dispose(): void {
    if (this.disposed) return;
    for (const s of this.slots.values()) s.mv.dispose();
    this.slots.clear();
    this.constants.dispose();
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error("AdamW has been disposed");
  }
}
