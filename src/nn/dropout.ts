/** Dropout with a seeded, resumable stream of masks. */
import * as tf from "@tensorflow/tfjs";
import { checkRate } from "../checks";
import { seededDropout } from "../kernels/dropout";
import { subSeed } from "../random";

/**
 * Inverted dropout with a seeded stream: a fresh mask per call, reproducible from the seed. The
 * masks come from `seededDropout`, drawn on the device (tf.dropout draws them on the host, which
 * dominated a GPU training step).
 */
export class Dropout {
  /**
   * Index of the next mask in the stream. The training loop sets it from the step (exact
   * resume); recomputation sets it back so that the second pass draws the same masks.
   */
  position = 0;
  constructor(
    readonly rate: number,
    readonly seed = 0,
  ) {
    checkRate("Dropout", "rate", rate);
  }
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    if (!training || this.rate === 0) return x;
    return seededDropout(x, this.rate, subSeed(this.seed, `call${this.position++}`));
  }
}
