/**
 * The matrix product of the dense layers, with a backward pass that transposes explicitly.
 *
 * Why not plain `tf.matMul`: its gradient multiplies with a transpose flag, and tfjs-wasm takes a
 * slow path for those — measured here at (25088, 64)ᵀ·(25088, 128): 853 ms with the flag against
 * 67 ms for transpose-then-multiply. The dense layers of a 784-pixel batch hit exactly that case.
 */
import * as tf from "@tensorflow/tfjs";
import { customOp2 } from "../custom-grad";

/** x: (m, k) · w: (k, n) → (m, n), differentiable in both. */
export const matMul2d = customOp2((x: tf.Tensor2D, w: tf.Tensor2D, save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)],
  };
});
