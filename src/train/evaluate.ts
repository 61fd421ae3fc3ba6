/**
 * Evaluation: a split's mean loss and accuracy, without dropout, and the run's single evaluation
 * of the test split on the checkpoint chosen on validation.
 */
import * as tf from "@tensorflow/tfjs";
import { batchIndices, Task } from "../data";
import type { StackedModel } from "../nn";
import { DeviceLog } from "./device-log";
import { loadModelCheckpoint } from "./model-checkpoint";
import { RunFolder, SplitMetrics } from "./run-folder";
import { lossAndAccuracy } from "./step";

/** Loss and accuracy over the whole split, in batches, without dropout. The per-batch values stay
 * on the device and come back in one read at the end. */
export async function evaluate(model: StackedModel, task: Task, bsz: number): Promise<{ loss: number; accuracy: number }> {
  const log = new DeviceLog();
  try {
    for (const idx of batchIndices(task.n, bsz, { shuffle: false, seed: 0, epoch: 0 })) {
      const r = tf.tidy(() => {
        const { x, y } = task.makeBatch(idx);
        return lossAndAccuracy(model.forward(x, { training: false }), y, task.numClasses);
      });
      log.push([r.loss, r.accuracy], idx.length);
    }
    const { values, weights } = await log.read();
    const count = weights.reduce((a, b) => a + b, 0);
    const mean = (k: number) => values.reduce((sum, row, i) => sum + row[k] * weights[i], 0) / count;
    return { loss: mean(0), accuracy: mean(1) };
  } finally {
    log.dispose();
  }
}

/** The test split, evaluated once on the `best` checkpoint at `bestPath` (on `model` when none was saved). */
export async function testOnBest(model: StackedModel, testTask: Task, bsz: number, bestPath: string): Promise<SplitMetrics> {
  if (!RunFolder.hasCheckpoint(bestPath)) return evaluate(model, testTask, bsz);
  const best = await loadModelCheckpoint(bestPath);
  try {
    return await evaluate(best.model, testTask, bsz);
  } finally {
    best.model.dispose();
    if (best.optimizerState) tf.dispose(Object.values(best.optimizerState.tensors));
  }
}
