/**
 * Part 1 of The Annotated S4: a state space model x'(t) = A x(t) + B u(t), y(t) = C x(t), made
 * discrete by the bilinear method and then run either as a recurrence (RNN) or as one long
 * convolution (CNN). Everything here is float32 tensors and differentiable, because the Part 1
 * SSM layer learns A, B, C and the step.
 */
import * as tf from "@tensorflow/tfjs";
import { checkOneOf, checkPositive, checkPositiveInt, checkShape } from "./checks";
import { causalConv, directCausalConv } from "./kernels/causal-conv";
import { inv } from "./linalg";
import { formatShape } from "./shape-format";

/** Continuous SSM: A (N, N), B (N, 1), C (1, N). */
export interface SSM {
  A: tf.Tensor2D;
  B: tf.Tensor2D;
  C: tf.Tensor2D;
}

/** Discrete SSM: Ab (N, N), Bb (N, 1), Cb (1, N). */
export interface DiscreteSSM {
  Ab: tf.Tensor2D;
  Bb: tf.Tensor2D;
  Cb: tf.Tensor2D;
}

/** A random SSM with entries uniform in [0, 1), as in the walkthrough (seeded). */
export function randomSSM(N: number, seed = 0): SSM {
  checkPositiveInt("randomSSM: N", N);
  return tf.tidy(() => ({
    A: tf.randomUniform([N, N], 0, 1, "float32", seed) as tf.Tensor2D,
    B: tf.randomUniform([N, 1], 0, 1, "float32", seed + 1) as tf.Tensor2D,
    C: tf.randomUniform([1, N], 0, 1, "float32", seed + 2) as tf.Tensor2D,
  }));
}

function checkSSM(fn: string, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor): number {
  const N = A.shape[0];
  checkShape(`${fn}: A`, A, [N, N], "(square)");
  checkShape(`${fn}: B`, B, [N, 1], `(N = ${N} from A)`);
  checkShape(`${fn}: C`, C, [1, N], `(N = ${N} from A)`);
  return N;
}

/**
 * Bilinear (Tustin) discretization with step Δ:
 *   Ā = (I − Δ/2·A)⁻¹ (I + Δ/2·A),  B̄ = (I − Δ/2·A)⁻¹ Δ·B,  C̄ = C.
 * `step` may be a number or a scalar tensor (so a learned log-step gets a gradient).
 */
export function discretize(A: tf.Tensor2D, B: tf.Tensor2D, C: tf.Tensor2D, step: number | tf.Scalar): DiscreteSSM {
  const N = checkSSM("discretize", A, B, C);
  if (typeof step === "number") checkPositive("discretize: step", step);
  return tf.tidy(() => {
    const I = tf.eye(N);
    const half = tf.mul(A, tf.div(step, 2));
    const BL = inv(tf.sub(I, half));
    return {
      Ab: tf.matMul(BL, tf.add(I, half)) as tf.Tensor2D,
      Bb: tf.matMul(tf.mul(BL, step), B) as tf.Tensor2D,
      Cb: tf.clone(C) as tf.Tensor2D,
    };
  });
}

/**
 * The recurrent view: x_k = Ā x_{k−1} + B̄ u_k, y_k = C̄ x_k from x_{−1} = x0 (zero by default).
 * u: (L, 1) → { x: last state (N), y: (L, 1) }. One small matmul per step: a reference, not fast.
 */
export function scanSSM(
  Ab: tf.Tensor2D,
  Bb: tf.Tensor2D,
  Cb: tf.Tensor2D,
  u: tf.Tensor2D,
  x0?: tf.Tensor1D,
): { x: tf.Tensor1D; y: tf.Tensor2D } {
  const N = checkSSM("scanSSM", Ab, Bb, Cb);
  checkShape("scanSSM: u", u, [-1, 1], "(L, 1)");
  if (x0) checkShape("scanSSM: x0", x0, [N]);
  return tf.tidy(() => {
    let x = x0 ? tf.reshape(x0, [N, 1]) : tf.zeros([N, 1]);
    const ys: tf.Tensor[] = [];
    for (const uk of tf.unstack(u)) {
      x = tf.add(tf.matMul(Ab, x), tf.mul(Bb, uk));
      ys.push(tf.matMul(Cb, x));
    }
    return { x: tf.reshape(x, [N]) as tf.Tensor1D, y: tf.reshape(tf.stack(ys), [u.shape[0], 1]) as tf.Tensor2D };
  });
}

/** Discretizes with step 1/L and runs the recurrence over u: (L) → y: (L). */
export function runSSM(A: tf.Tensor2D, B: tf.Tensor2D, C: tf.Tensor2D, u: tf.Tensor1D): tf.Tensor1D {
  checkShape("runSSM: u", u, [-1], "(L)");
  const L = u.shape[0];
  return tf.tidy(() => {
    const { Ab, Bb, Cb } = discretize(A, B, C, 1 / L);
    return tf.reshape(scanSSM(Ab, Bb, Cb, tf.reshape(u, [L, 1]) as tf.Tensor2D).y, [L]) as tf.Tensor1D;
  });
}

/**
 * The SSM convolution kernel K̄ = (C̄B̄, C̄ĀB̄, …, C̄Ā^{L−1}B̄): (L). The Krylov vectors Ā^k B̄ are
 * built by doubling ([V, Ā^m V] from V and Ā^m), so only about 2·log₂ L matmuls are traced.
 */
export function kConv(Ab: tf.Tensor2D, Bb: tf.Tensor2D, Cb: tf.Tensor2D, L: number): tf.Tensor1D {
  checkSSM("kConv", Ab, Bb, Cb);
  checkPositiveInt("kConv: L", L);
  return tf.tidy(() => {
    let V: tf.Tensor2D = Bb; // (N, m): columns Ā^0 B̄ … Ā^{m−1} B̄
    let P: tf.Tensor2D = Ab; // Ā^m
    while (V.shape[1] < L) {
      V = tf.concat([V, tf.matMul(P, V)], 1) as tf.Tensor2D;
      if (V.shape[1] < L) P = tf.matMul(P, P);
    }
    return tf.reshape(tf.matMul(Cb, tf.slice(V, [0, 0], [-1, L])), [L]) as tf.Tensor1D;
  });
}

/**
 * Causal convolution of u with a kernel K of the same length: y[t] = Σ_{j ≤ t} K[j] u[t − j].
 * u: (..., h, l) and K: (h, l) (or both (l)); `method` "fft" (default: the `causalConv` kernel,
 * an FFT on the host) or "direct" (`directCausalConv`, the O(L²) tf-ops definition).
 */
export function causalConvolution(u: tf.Tensor, K: tf.Tensor, method: "fft" | "direct" = "fft"): tf.Tensor {
  checkOneOf("causalConvolution: method", method, ["fft", "direct"] as const);
  if (u.rank < 1 || K.rank < 1 || u.shape[u.rank - 1] !== K.shape[K.rank - 1]) {
    throw new Error(`causalConvolution: u ${formatShape(u.shape)} and K ${formatShape(K.shape)} must share their last (length) axis`);
  }
  return method === "fft" ? causalConv(u, K) : directCausalConv(u, K);
}

// ---- The mass–spring example -------------------------------------------------------------------

/** A mass m on a spring (stiffness k) with friction b: state (position, velocity), output position. */
export function exampleMass(k: number, b: number, m: number): SSM {
  checkPositive("exampleMass: m", m);
  return tf.tidy(() => ({
    A: tf.tensor2d([
      [0, 1],
      [-k / m, -b / m],
    ]),
    B: tf.tensor2d([[0], [1 / m]]),
    C: tf.tensor2d([[1, 0]]),
  }));
}

/** The pushing force: the positive peaks of sin(10 t), cut below 0.5. */
export function exampleForce(t: number): number {
  const x = Math.sin(10 * t);
  return x > 0.5 ? x : 0;
}

/**
 * The walkthrough's simulation: k = 40, b = 5, m = 1, one second of time in L steps: the force
 * sampled at t_k = k/L and the SSM discretized with the same step 1/L.
 * Returns plain arrays (time t_k, force, position) ready to plot or animate.
 */
export async function exampleSSM(L = 100): Promise<{ t: number[]; u: number[]; y: number[] }> {
  checkPositiveInt("exampleSSM: L", L);
  const t = Array.from({ length: L }, (_, i) => i / L);
  const u = t.map(exampleForce);
  const position = tf.tidy(() => {
    const { A, B, C } = exampleMass(40, 5, 1);
    return runSSM(A, B, C, tf.tensor1d(u));
  });
  const y = Array.from(await position.data()); // async read: works on every backend
  position.dispose();
  return { t, u, y };
}
