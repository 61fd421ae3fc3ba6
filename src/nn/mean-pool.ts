/**
 * Mean over the length axis, x: (b, l, h) → (b, h), for classification heads. Its gradient
 * spreads dy/l back over the length on the device: tfjs's own gradient of tf.mean multiplies by
 * a ones tensor of x's size made on the host, which a GPU backend must upload on every step
 * (51 MB at batch 128, l 784, h 128).
 */
import * as tf from "@tensorflow/tfjs";
import { customOp1 } from "../custom-grad";
import { formatShape } from "../shape-format";

const pooled = customOp1((x, save) => {
  save([]);
  const l = x.shape[1] as number;
  return {
    value: tf.mean(x, 1),
    // tf.fill makes the constant on the device (a GPU fill program, no upload).
    gradFunc: (dy) => tf.mul(tf.expandDims(dy, 1), tf.fill([1, l, 1], 1 / l)),
  };
});

export function meanOverLength(x: tf.Tensor): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.rank !== 3)
    throw new Error(
      `meanOverLength: x must be a tensor of shape (b, l, h), got ${x instanceof tf.Tensor ? `${formatShape(x.shape)}` : typeof x}`,
    );
  return pooled(x);
}
