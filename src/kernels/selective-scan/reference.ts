/**
 * The selective scan in plain tf ops: the slow twin the fused kernels are tested against, and the
 * op itself on backends without a kernel (tfjs-node, say). tfjs autodiff differentiates it on
 * every backend, since it uses only elementwise ops, reductions, slices and concatenations.
 *
 * The recurrence h_t = a_t ⊙ h_{t−1} + x_t is linear, so pairs (a, x) compose associatively:
 * applying (a₁, x₁) then (a₂, x₂) is (a₂a₁, a₂x₁ + x₂). A doubling (Hillis–Steele) scan combines
 * each step with the one 1, 2, 4, … places earlier, giving every h_t after ⌈log₂ l⌉ rounds of
 * whole-tensor ops instead of l rounds of tiny ones. It holds (b, d, l, n) tensors, so it is meant
 * for checking and for backends that have memory to spare, not for long sequences on small devices.
 */
import * as tf from "@tensorflow/tfjs";
import { checkSelectiveScanArgs, SelectiveScanOptions, SelectiveScanResult } from "./shapes";

/** delta after the optional bias and softplus, as every implementation uses it: (b, d, l). */
export function effectiveDelta(delta: tf.Tensor, deltaBias: tf.Tensor | undefined, softplus: boolean): tf.Tensor {
  return tf.tidy(() => {
    let dt = delta;
    if (deltaBias) dt = tf.add(dt, tf.reshape(deltaBias, [1, -1, 1]));
    return softplus ? tf.softplus(dt) : dt;
  });
}

/**
 * y_t = C_t · h_t + D u_t with h_t = exp(δ_t A) ⊙ h_{t−1} + δ_t B_t u_t and h_{−1} = 0, then
 * y ← y · silu(z) when z is given. Same arguments and results as `selectiveScan`.
 */
export function selectiveScanReference(
  u: tf.Tensor,
  delta: tf.Tensor,
  A: tf.Tensor,
  B: tf.Tensor,
  C: tf.Tensor,
  opts: SelectiveScanOptions = {},
): SelectiveScanResult {
  const { b, d, n, l } = checkSelectiveScanArgs("selectiveScanReference", u, delta, A, B, C, opts);
  return tf.tidy(() => {
    const dt = effectiveDelta(delta, opts.deltaBias, opts.deltaSoftplus ?? false); // (b, d, l)
    const dt4 = tf.reshape(dt, [b, d, l, 1]);
    let a = tf.exp(tf.mul(dt4, tf.reshape(A, [1, d, 1, n]))); // exp(δA): (b, d, l, n)
    const Bt = tf.reshape(tf.transpose(B, [0, 2, 1]), [b, 1, l, n]);
    let x = tf.mul(tf.mul(dt4, tf.reshape(u, [b, d, l, 1])), Bt); // δ B u: (b, d, l, n)
    for (let s = 1; s < l; s *= 2) {
      // Compose every step with the partial result s places earlier (the identity before t = 0).
      const head = [b, d, s, n], keep = [b, d, l - s, n];
      const xPrev = tf.concat([tf.zeros(head), tf.slice(x, [0, 0, 0, 0], keep)], 2);
      const aPrev = tf.concat([tf.ones(head), tf.slice(a, [0, 0, 0, 0], keep)], 2);
      x = tf.add(tf.mul(a, xPrev), x);
      a = tf.mul(a, aPrev);
    }
    const h = x; // every state h_t: (b, d, l, n)
    let y = tf.sum(tf.mul(h, tf.reshape(tf.transpose(C, [0, 2, 1]), [b, 1, l, n])), 3); // (b, d, l)
    if (opts.D) y = tf.add(y, tf.mul(tf.reshape(opts.D, [1, d, 1]), u));
    if (opts.z) y = tf.mul(y, tf.mul(opts.z, tf.sigmoid(opts.z)));
    const lastState = tf.reshape(tf.slice(h, [0, 0, l - 1, 0], [b, d, 1, n]), [b, d, n]);
    return { y, lastState };
  });
}
