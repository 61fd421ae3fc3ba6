/**
 * One optimizer step that stays on the device: forward, gradients and the AdamW update, returning
 * the batch's loss and accuracy as scalars still on the device. Nothing is read back here, so a
 * GPU runs step after step without waiting for the host; the training loop reads the running sums
 * once per logging interval.
 */
import * as tf from "@tensorflow/tfjs";
import type { TaskBatch } from "../data";
import type { StackedModel } from "../nn";
import type { AdamW } from "./adamw";
import { softmaxCrossEntropy } from "./cross-entropy";

/** Dropout mask indices reserved per optimizer step (each block draws a few masks per forward). */
export const DROPOUT_STRIDE = 64;

/** The scalars one step leaves on the device; the caller disposes them. */
export interface StepTensors {
  /** Mean cross-entropy of the batch (nats). */
  loss: tf.Scalar;
  /** Fraction of the batch's predictions that are right. */
  accuracy: tf.Scalar;
  /** The global gradient norm before clipping, when the optimizer clips. */
  gradNorm?: tf.Scalar;
}

/** Mean cross-entropy (nats) and accuracy of logits (b, C) or (b, l, C) against int labels. */
export function lossAndAccuracy(logits: tf.Tensor, labels: tf.Tensor, numClasses: number): { loss: tf.Scalar; accuracy: tf.Scalar } {
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, numClasses]) as tf.Tensor2D;
    const y = tf.reshape(labels.dtype === "int32" ? labels : tf.cast(labels, "int32"), [-1]);
    const loss = softmaxCrossEntropy(flat, y);
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(flat, 1), y), "float32")) as tf.Scalar;
    return { loss, accuracy };
  });
}

/** Puts every dropout layer's mask stream at the position reserved for `step`. */
export function positionDropout(model: StackedModel, step: number): void {
  for (const b of model.blocks) if (b.drop) b.drop.position = step * DROPOUT_STRIDE;
}

/**
 * One training step on a batch (x, y) at global step `step` and learning rate `lr`. The batch
 * tensors stay the caller's.
 */
export function trainStep(
  model: StackedModel,
  optimizer: AdamW,
  batch: TaskBatch,
  numClasses: number,
  step: number,
  lr: number,
  opts: { recompute?: boolean } = {},
): StepTensors {
  const params = model.parameters();
  positionDropout(model, step);
  let accuracy: tf.Scalar | null = null;
  const vars = Object.values(params);
  // The seed gradient ∂loss/∂loss = 1, made on the device: tf.variableGrads would make it on the
  // host, one upload every step.
  const seed = tf.fill([], 1) as tf.Scalar;
  let value: tf.Scalar, grads: tf.Tensor[];
  try {
    ({ value, grads } = tf.engine().gradients(
      () => {
        const r = lossAndAccuracy(model.forward(batch.x, { training: true, recompute: opts.recompute }), batch.y, numClasses);
        accuracy = tf.keep(r.accuracy);
        return r.loss;
      },
      vars,
      seed,
      false,
    ));
  } finally {
    seed.dispose();
  }
  const named: Record<string, tf.Tensor> = {};
  Object.keys(params).forEach((name, i) => (named[name] = grads[i]));
  let gradNorm: tf.Scalar | undefined;
  try {
    gradNorm = optimizer.step(named, lr);
  } finally {
    tf.dispose(grads);
  }
  return { loss: value, accuracy: accuracy as unknown as tf.Scalar, ...(gradNorm ? { gradNorm } : {}) };
}
