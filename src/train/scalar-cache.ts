/**
 * Scalar tensors by value, for tf-ops code that needs the same constants again and again: each
 * is made (uploaded, on a GPU backend) once, not at every use. The values named at construction
 * live until dispose; any other value lives until the next `release` (e.g. the end of a step).
 */
import * as tf from "@tensorflow/tfjs";

export class ScalarCache {
  private readonly lasting: Set<number>;
  private readonly kept = new Map<number, tf.Scalar>();
  private readonly transient = new Map<number, tf.Scalar>();

  constructor(lastingValues: Iterable<number>) {
    this.lasting = new Set(lastingValues);
  }

  /** The scalar of `value` (owned by the cache: do not dispose it). */
  readonly get = (value: number): tf.Scalar => {
    const pool = this.lasting.has(value) ? this.kept : this.transient;
    let t = pool.get(value);
    if (!t || t.isDisposed) {
      t = tf.keep(tf.scalar(value));
      pool.set(value, t);
    }
    return t;
  };

  /** Frees the scalars of values outside the lasting set. */
  release(): void {
    for (const t of this.transient.values()) t.dispose();
    this.transient.clear();
  }

  /** Frees every scalar; the cache can still be used afterwards. */
  dispose(): void {
    this.release();
    for (const t of this.kept.values()) t.dispose();
    this.kept.clear();
  }
}
