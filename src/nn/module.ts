/**
 * A small module system for the sequence models: a module owns named tf.Variables and child
 * modules, and `parameters()` flattens the tree into dotted names ("blocks.0.layer.Lambda_re").
 * Initial values come from a seeded generator on the host (src/random.ts), so a seed gives the
 * same model on every backend.
 */
import * as tf from "@tensorflow/tfjs";
import { formatShape } from "../shape-format";

export abstract class Module {
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();

  protected addParam(name: string, values: Float32Array | number[], shape: number[]): tf.Variable {
    if (this.ownParams.has(name)) throw new Error(`Module: parameter "${name}" is already defined`);
    const init = tf.tensor(values, shape, "float32");
    const v = tf.variable(init, true); // the variable copies its initial value: free the original
    init.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  protected addChild<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter of this module and its children, by dotted name. */
  parameters(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    for (const [k, v] of this.ownParams) out[k] = v;
    for (const [c, m] of this.children) {
      for (const [k, v] of Object.entries(m.parameters())) out[`${c}.${k}`] = v;
    }
    return out;
  }

  /** The total number of scalar parameters. */
  countParams(): number {
    return Object.values(this.parameters()).reduce((a, v) => a + v.size, 0);
  }

  /** A text table: one row per parameter (name, shape, count) and the total. */
  summary(): string {
    const rows = Object.entries(this.parameters()).map(([k, v]) => [k, `${formatShape(v.shape)}`, String(v.size)]);
    rows.push(["total", "", String(this.countParams())]);
    const head = ["parameter", "shape", "count"];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
    const rule = "-".repeat(w[0] + w[1] + w[2] + 4);
    return [line(head), rule, ...rows.slice(0, -1).map(line), rule, line(rows[rows.length - 1])].join("\n");
  }

  /** Frees every variable (and any cached tensors of subclasses). */
  dispose(): void {
    for (const v of this.ownParams.values()) v.dispose();
    this.ownParams.clear();
    for (const m of this.children.values()) m.dispose();
  }
}
