/**
 * A small module system for the sequence models: a module owns named tf.Variables and child
 * modules, and `parameters()` flattens the tree into dotted names ("blocks.0.layer.Lambda_re").
 * Initial values come from a seeded generator on the host, so a seed gives the same model on
 * every backend.
 */
import * as tf from "@tensorflow/tfjs";
import { CTensor } from "../complex";
import { mulberry32 } from "../random";
import { causalConvolution } from "../ssm";
import type { MambaState } from "./mamba-block";


/**
 * The CNN mode every SSM layer shares: y = K̄ ⊛ u + D·u with u: (b, l, h), K: (h, l), D: (h),
 * convolving along l in the (b, h, l) layout the kernels take.
 */
export function convolveWithSkip(u: tf.Tensor, K: tf.Tensor, D: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const y = causalConvolution(tf.transpose(u, [0, 2, 1]), K); // (b, h, l)
    return tf.add(tf.transpose(y, [0, 2, 1]), tf.mul(u, D)); // (b, l, h)
  });
}

/** n standard normal samples (Box–Muller) from a seeded generator. */
export function seededNormal(n: number, seed: number, std = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = Math.max(r(), 1e-12), u2 = r();
    const rad = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = rad * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = rad * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** A seed for a named sub-stream, so that two parameters of one module never share samples. */
export function subSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function checkIntArg(fn: string, name: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Error(`${fn}: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

export function checkRate(fn: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Error(`${fn}: ${name} must be a number in [0, 1), got ${String(value)}`);
  }
  return value;
}

export function checkSeed(fn: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new Error(`${fn}: seed must be an integer, got ${String(value)}`);
  }
  return value;
}

/** Throws unless t has the given rank and (where not −1) the given sizes. */
export function checkDims(name: string, t: tf.Tensor, dims: number[], what: string): void {
  const ok = t.rank === dims.length && dims.every((d, i) => d === -1 || t.shape[i] === d);
  if (!ok) throw new Error(`${name} must have shape ${what}, got (${t.shape.join(", ")})`);
}

/** The state an SSM layer carries between steps in RNN mode (a Mamba block's: {conv, ssm}). */
export type LayerState = CTensor | tf.Tensor | MambaState;

export function disposeState(s: LayerState | LayerState[]): void {
  const list = Array.isArray(s) ? s : [s];
  for (const x of list) {
    if (x instanceof tf.Tensor) x.dispose();
    else tf.dispose(Object.values(x) as tf.Tensor[]);
  }
}

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
    const rows = Object.entries(this.parameters()).map(([k, v]) => [k, `(${v.shape.join(", ")})`, String(v.size)]);
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

/** An SSM sequence layer: (b, l, h) → (b, l, h) in CNN mode, one position at a time in RNN mode. */
export interface SequenceLayer extends Module {
  readonly h: number;
  readonly l: number;
  /** CNN mode: u (b, l, h) → y (b, l, h). */
  forward(u: tf.Tensor): tf.Tensor;
  /** Builds the discrete RNN matrices from the parameters' current values. */
  setupRecurrence(): Promise<void>;
  /** The zero state for a batch of b sequences. */
  initState(b: number): LayerState;
  /** RNN mode, one position: u (b, h) → y (b, h) and the next state. */
  step(state: LayerState, u: tf.Tensor): { y: tf.Tensor; state: LayerState };
}
