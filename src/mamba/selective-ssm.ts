/**
 * The selective SSM of Mamba (S6), built from the linear scan.
 *
 * Every channel c of every batch item runs n scalar recurrences side by side (its n states), and
 * the step size Δ and the vectors B, C change at every step with the input:
 *
 *   Ā_t = exp(Δ_t·A)            zero-order hold for A: exact when the input is held over the step
 *   B̄_t u_t = Δ_t·B_t·u_t        Euler for B: the simpler rule Mamba uses there
 *   h_t = Ā_t ⊙ h_{t−1} + B̄_t u_t,   h_{−1} = 0
 *   y_t = C_t · h_t + D·u_t
 *
 * Shapes as in the fused kernel `selectiveScan`: u, delta (b, d, l); A (d, n); B, C (b, n, l);
 * D (d); states h (b, d, n). Δ is used as given (the Mamba block applies its softplus first).
 */
import * as tf from "@tensorflow/tfjs";
import { checkSelectiveScanArgs, SelectiveScanResult } from "../kernels/selective-scan/shapes";
import { lastDim, sliceLast, stackTime, unstackTime } from "./last-axis";
import { formatShape } from "../shape-format";
import { linearScanBy, ScanMethod } from "./linear-scan";
import { linearScan } from "./scan-grad";

export type { SelectiveScanResult } from "../kernels/selective-scan/shapes";

/** y plus the skip term D·u when D is given: y, u (b, d, l), D (d). */
export function addSkip(y: tf.Tensor, u: tf.Tensor, D: tf.Tensor | undefined): tf.Tensor {
  return D ? tf.add(y, tf.mul(tf.reshape(D, [1, -1, 1]), u)) : y;
}

/**
 * The selective SSM one time step at a time: the teaching version, and the reference the
 * parallel and fused versions are checked against (autodiff differentiates it, step by step).
 * Returns y: (b, d, l) and lastState = h_{l−1}: (b, d, n).
 */
export function selectiveSSMLoop(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  D?: tf.Tensor,
): SelectiveScanResult {
  const { b, d, n } = checkSelectiveScanArgs("selectiveSSMLoop", u, delta, A, B, C, { D });
  return tf.tidy(() => {
    const us = unstackTime(u),
      deltas = unstackTime(delta); // l × (b, d)
    const Bs = unstackTime(B),
      Cs = unstackTime(C); // l × (b, n)
    const A3 = tf.reshape(A, [1, d, n]);
    let h = tf.zeros([b, d, n]);
    const ys: tf.Tensor[] = [];
    for (let t = 0; t < us.length; t++) {
      const dt = tf.reshape(deltas[t], [b, d, 1]);
      const Abar = tf.exp(tf.mul(dt, A3)); // exp(Δ_t A): (b, d, n)
      const BbarU = tf.mul(tf.mul(dt, tf.reshape(us[t], [b, d, 1])), tf.reshape(Bs[t], [b, 1, n])); // Δ_t u_t B_t: (b, d, n)
      h = tf.add(tf.mul(Abar, h), BbarU); // (b, d, n)
      ys.push(tf.sum(tf.mul(h, tf.reshape(Cs[t], [b, 1, n])), 2)); // C_t · h_t: (b, d)
    }
    return { y: addSkip(stackTime(ys), u, D), lastState: h };
  });
}

/** The discretized inputs of the scan, time last: Ā and B̄u, both (b, d, n, l). */
export interface SelectiveDiscretization {
  Abar: tf.Tensor;
  BbarU: tf.Tensor;
}

/**
 * Ā = exp(Δ·A) (zero-order hold) and B̄u = Δ·B·u (Euler) for every (b, d, n) and step, laid out
 * (b, d, n, l) so that the scan runs along the last axis.
 */
export function discretizeSelective(u: tf.Tensor, delta: tf.Tensor, A: tf.Tensor, B: tf.Tensor): SelectiveDiscretization {
  const fn = "discretizeSelective";
  if (!(B instanceof tf.Tensor)) throw new Error(`${fn}: B must be a tf.Tensor of shape (b, n, l), got ${typeof B}`);
  const { b, d, n, l } = checkSelectiveScanArgs(fn, u, delta, A, B, B, {});
  return tf.tidy(() => {
    const dt = tf.reshape(delta, [b, d, 1, l]);
    const Abar = tf.exp(tf.mul(dt, tf.reshape(A, [1, d, n, 1]))); // (b, d, n, l)
    const BbarU = tf.mul(tf.mul(dt, tf.reshape(u, [b, d, 1, l])), tf.reshape(B, [b, 1, n, l])); // (b, d, n, l)
    return { Abar, BbarU };
  });
}

/** y_t = C_t · h_t summed over the n states, plus D·u: h (b, d, n, l), C (b, n, l) → y (b, d, l). */
export function readOut(h: tf.Tensor, C: tf.Tensor, u: tf.Tensor, D?: tf.Tensor): tf.Tensor {
  const fn = "readOut";
  if (!(h instanceof tf.Tensor) || h.rank !== 4)
    throw new Error(`${fn}: h must be a tf.Tensor of shape (b, d, n, l), got ${h instanceof tf.Tensor ? formatShape(h.shape) : typeof h}`);
  const [b, d, n, l] = h.shape;
  expectShape(fn, "C", C, "(b, n, l)", [b, n, l]);
  expectShape(fn, "u", u, "(b, d, l)", [b, d, l]);
  if (D !== undefined) expectShape(fn, "D", D, "(d)", [d]);
  return tf.tidy(() => addSkip(tf.sum(tf.mul(h, tf.reshape(C, [b, 1, n, l])), 2), u, D));
}

/** Throws unless t is a tensor of exactly the shape `want`. */
function expectShape(fn: string, name: string, t: unknown, axes: string, want: number[]): void {
  const ok = t instanceof tf.Tensor && formatShape(t.shape) === formatShape(want);
  if (!ok)
    throw new Error(
      `${fn}: ${name} must have shape ${axes} = ${formatShape(want)}, got ${t instanceof tf.Tensor ? formatShape(t.shape) : typeof t}`,
    );
}

/** How `selectiveSSMParallel` scans. */
export interface SelectiveSSMOptions {
  /** Default "blelloch". */
  method?: ScanMethod;
  /** Chunk length of the "chunked" method (default 64). */
  chunk?: number;
  /**
   * Differentiate the scan's own ops with autodiff instead of using the reverse-scan gradient
   * (`linearScan`); it keeps every intermediate tensor, so it is for comparison only. Default false.
   */
  autodiff?: boolean;
  /** The state before the first step, (b, d, n); default zeros. */
  h0?: tf.Tensor;
}

/**
 * The selective SSM with all (b, d, n) recurrences scanned at once by a parallel scan: build Ā and
 * B̄u for every step, scan, read out. Returns y: (b, d, l) and lastState = h_{l−1}: (b, d, n).
 * It holds (b, d, n, l) tensors: memory grows as b·d·n·l, unlike the fused kernel (see
 * selective-ssm-checkpointed.ts for the same scan in chunks of bounded memory). Its arguments are
 * selectiveSSMLoop's (and the fused kernel's) plus how to scan, so that the versions interchange.
 */
export function selectiveSSMParallel(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  D?: tf.Tensor,
  opts: SelectiveSSMOptions = {},
): SelectiveScanResult {
  const fn = "selectiveSSMParallel";
  const { b, d, n } = checkSelectiveScanArgs(fn, u, delta, A, B, C, { D });
  if (opts.h0 !== undefined) expectShape(fn, "h0", opts.h0, "(b, d, n)", [b, d, n]);
  const method = opts.method ?? "blelloch";
  return tf.tidy(() => {
    const { Abar, BbarU } = discretizeSelective(u, delta, A, B); // (b, d, n, l)
    const scanOpts = { method, chunk: opts.chunk, h0: opts.h0 };
    const h = opts.autodiff ? linearScanBy(method, Abar, BbarU, scanOpts) : linearScan(Abar, BbarU, scanOpts); // (b, d, n, l)
    const lastState = tf.reshape(sliceLast(h, lastDim(h) - 1, 1), [b, d, n]);
    return { y: readOut(h, C, u, D), lastState };
  });
}

/**
 * exp(Δ·A) on a grid, for plotting how fast a state forgets: surface[i][j] = exp(deltas[i]·As[j]).
 * With A < 0, a larger Δ forgets faster (the state resets towards the input), a smaller Δ keeps it.
 */
export function zohDecaySurface(As: readonly number[], deltas: readonly number[]): number[][] {
  for (const [name, xs] of [
    ["As", As],
    ["deltas", deltas],
  ] as const) {
    if (!Array.isArray(xs) || xs.length === 0 || !xs.every((x) => typeof x === "number" && Number.isFinite(x))) {
      throw new Error(`zohDecaySurface: ${name} must be a nonempty array of finite numbers, got ${JSON.stringify(xs)?.slice(0, 80)}`);
    }
  }
  return deltas.map((dt) => As.map((a) => Math.exp(dt * a)));
}
