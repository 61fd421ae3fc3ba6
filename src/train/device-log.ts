/**
 * Scalars that stay on the device until they are needed: each step adds its loss and accuracy
 * (and gradient norm), and `read` brings all of them back in ONE read. A GPU then waits for the
 * host once per logging interval instead of once per value.
 */
import * as tf from "@tensorflow/tfjs";

export class DeviceLog {
  private rows: tf.Scalar[][] = [];
  private weights: number[] = [];

  /** Number of rows waiting to be read. */
  get length(): number {
    return this.rows.length;
  }

  /** Keeps one row of scalars (taking ownership) with a weight, e.g. the batch size. */
  push(values: tf.Scalar[], weight = 1): void {
    if (this.rows.length && values.length !== this.rows[0].length) {
      throw new Error(`DeviceLog.push: every row must have ${this.rows[0].length} values, got ${values.length}`);
    }
    this.rows.push(values);
    this.weights.push(weight);
  }

  /** Reads every row in one transfer, frees the scalars and empties the log. */
  async read(): Promise<{ values: number[][]; weights: number[] }> {
    const rows = this.rows,
      weights = this.weights;
    this.rows = [];
    this.weights = [];
    if (rows.length === 0) return { values: [], weights: [] };
    const width = rows[0].length;
    const all = tf.stack(rows.flat());
    try {
      const flat = await all.data();
      return { values: rows.map((_, i) => Array.from(flat.subarray(i * width, (i + 1) * width))), weights };
    } finally {
      tf.dispose([all, ...rows.flat()]);
    }
  }

  /** Frees what was not read (e.g. after an error). */
  dispose(): void {
    tf.dispose(this.rows.flat());
    this.rows = [];
    this.weights = [];
  }
}
