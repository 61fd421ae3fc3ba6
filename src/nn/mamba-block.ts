/**
 * The Mamba block (the "mixer" of Gu & Dao, *Mamba: Linear-Time Sequence Modeling with Selective
 * State Spaces*), written from the equations with every tensor's shape beside it:
 *
 *   x, z  = split(in_proj(x))                      (b, l, d_model) → 2 × (b, l, d_inner)
 *   u     = silu(conv1d(x))                        causal depthwise, width d_conv, with bias
 *   Δ̃, B, C = split(x_proj(u))                     (b, l, dt_rank), (b, l, n), (b, l, n)
 *   Δ     = softplus(dt_proj(Δ̃))                   (b, l, d_inner), dt_proj's bias inside the softplus
 *   y     = selective_scan(u, Δ, A = −exp(A_log), B, C, D) · silu(z)
 *   out   = out_proj(y)                            (b, l, d_model)
 *
 * Two modes share the parameters: `forward` runs the whole sequence with the fused kernels
 * (`causalDepthwiseConv1d`, `selectiveScan`), and `step` advances one position from a state of
 * the last d_conv inputs of the convolution (b, d_inner, d_conv) and the SSM state (b, d_inner, n).
 * `forward(x, {returnState: true})` also returns the state after the last position, so a prompt can
 * be read in parallel and continued step by step.
 *
 * Weights are stored in the PyTorch Linear layout, weight (out, in) with y = x Wᵀ + b, so the
 * parameters of a PyTorch Mamba block load unchanged (`loadTorchParams`).
 */
import * as tf from "@tensorflow/tfjs";
import { causalDepthwiseConv1d } from "../kernels/depthwise-conv1d";
import { selectiveScan } from "../kernels/selective-scan";
import { checkIntArg, checkSeed } from "../checks";
import { mulberry32, subSeed } from "../random";
import { matMul2d } from "./linear";
import { Module } from "./module";
import { formatShape } from "../shape-format";

export interface MambaBlockOptions {
  /** Width of the residual stream, d_model. */
  dModel: number;
  /** SSM state size per channel, d_state. Default 16. */
  n?: number;
  /** d_inner = expand · d_model. Default 2. */
  expand?: number;
  /** Sets d_inner directly (overrides expand). */
  dInner?: number;
  /** Width of the causal convolution, d_conv. Default 4. */
  dConv?: number;
  /** Rank of the Δ projection. Default ceil(d_model / 16). */
  dtRank?: number;
  /** Initial Δ is log-uniform in [dtMin, dtMax], floored at dtInitFloor. Defaults 0.001, 0.1, 1e-4. */
  dtMin?: number;
  dtMax?: number;
  dtInitFloor?: number;
  /** Biases on in_proj and out_proj. Default false. */
  bias?: boolean;
  /** Bias on the convolution. Default true. */
  convBias?: boolean;
  seed?: number;
}

/** The recurrent state of one Mamba block: conv (b, d_inner, d_conv), ssm (b, d_inner, n). */
export type MambaState = { conv: tf.Tensor; ssm: tf.Tensor }; // a type, not an interface: tf.tidy can return it

export function isMambaState(s: unknown): s is MambaState {
  return typeof s === "object" && s !== null && (s as MambaState).conv instanceof tf.Tensor && (s as MambaState).ssm instanceof tf.Tensor;
}

/**
 * Names of the block's parameters that the reference training recipe leaves out of weight decay
 * (A_log and D are marked so in the reference; the Δ bias is a bias).
 */
export const MAMBA_NO_WEIGHT_DECAY: readonly string[] = ["A_log", "D", "dt_proj_bias"];

/** Our parameter name, the PyTorch state-dict name, and the short name of the golden fixtures. */
const TORCH_NAMES: readonly [string, string, string][] = [
  ["in_proj_weight", "in_proj.weight", "in_proj_w"],
  ["in_proj_bias", "in_proj.bias", "in_proj_b"],
  ["conv_weight", "conv1d.weight", "conv_w"],
  ["conv_bias", "conv1d.bias", "conv_b"],
  ["x_proj_weight", "x_proj.weight", "x_proj_w"],
  ["dt_proj_weight", "dt_proj.weight", "dt_proj_w"],
  ["dt_proj_bias", "dt_proj.bias", "dt_proj_b"],
  ["A_log", "A_log", "A_log"],
  ["D", "D", "D"],
  ["out_proj_weight", "out_proj.weight", "out_proj_w"],
  ["out_proj_bias", "out_proj.bias", "out_proj_b"],
];

function seededUniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * y = x Wᵀ (+ b) on the last axis, W in the PyTorch layout (out, in): (..., in) → (..., out). The
 * small W is transposed explicitly and the product goes through matMul2d, whose backward avoids
 * the transposed products that are slow on wasm.
 */
function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  const [out, inF] = weight.shape as number[];
  const flat = tf.reshape(x, [-1, inF]) as tf.Tensor2D;
  const y = matMul2d(flat, tf.transpose(weight as tf.Tensor2D)); // (N, out)
  return tf.reshape(bias ? tf.add(y, bias) : y, [...x.shape.slice(0, -1), out]);
}

/**
 * linear(x, weight, bias) split along its output features into parts of the given sizes, computed
 * as one linear per block of the weight's rows: (..., in) → [(..., sizes[0]), ...].
 */
function projectSplit(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, sizes: number[]): tf.Tensor[] {
  let at = 0;
  return sizes.map((size) => {
    const rows = tf.slice(weight, [at, 0], [size, -1]); // (size, in)
    const part = linear(x, rows, bias ? tf.slice(bias, [at], [size]) : null);
    at += size;
    return part;
  });
}

/** (b, l, c) ↔ (b, c, l): the projections act on the last axis, the kernels scan along it. */
const swapLast = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);

export class MambaBlock extends Module {
  readonly dModel: number;
  readonly n: number;
  readonly dInner: number;
  readonly dConv: number;
  readonly dtRank: number;
  readonly in_proj_weight: tf.Variable; // (2·d_inner, d_model)
  readonly in_proj_bias: tf.Variable | null; // (2·d_inner)
  readonly conv_weight: tf.Variable; // (d_inner, d_conv)
  readonly conv_bias: tf.Variable | null; // (d_inner)
  readonly x_proj_weight: tf.Variable; // (dt_rank + 2n, d_inner)
  readonly dt_proj_weight: tf.Variable; // (d_inner, dt_rank)
  readonly dt_proj_bias: tf.Variable; // (d_inner)
  readonly A_log: tf.Variable; // (d_inner, n)
  readonly D: tf.Variable; // (d_inner)
  readonly out_proj_weight: tf.Variable; // (d_model, d_inner)
  readonly out_proj_bias: tf.Variable | null; // (d_model)

  constructor(opts: MambaBlockOptions) {
    super();
    const fn = "MambaBlock";
    if (typeof opts !== "object" || opts === null) throw new Error(`${fn}: options must be an object, got ${String(opts)}`);
    const dModel = (this.dModel = checkIntArg(fn, "dModel", opts.dModel));
    const n = (this.n = checkIntArg(fn, "n", opts.n ?? 16));
    if (opts.dInner !== undefined) this.dInner = checkIntArg(fn, "dInner", opts.dInner);
    else {
      const expand = opts.expand ?? 2;
      if (!(typeof expand === "number" && expand > 0 && Number.isInteger(expand * dModel))) {
        throw new Error(
          `${fn}: expand must be a number > 0 with expand · dModel an integer, got expand ${String(expand)} for dModel ${dModel}`,
        );
      }
      this.dInner = expand * dModel;
    }
    const dInner = this.dInner;
    const k = (this.dConv = checkIntArg(fn, "dConv", opts.dConv ?? 4));
    const R = (this.dtRank = checkIntArg(fn, "dtRank", opts.dtRank ?? Math.ceil(dModel / 16)));
    const dtMin = opts.dtMin ?? 0.001,
      dtMax = opts.dtMax ?? 0.1,
      floor = opts.dtInitFloor ?? 1e-4;
    if (!(dtMin > 0 && dtMax >= dtMin && Number.isFinite(dtMax)))
      throw new Error(`${fn}: dtMin and dtMax must satisfy 0 < dtMin ≤ dtMax < ∞, got dtMin ${dtMin}, dtMax ${dtMax}`);
    if (!(floor > 0)) throw new Error(`${fn}: dtInitFloor must be > 0, got ${floor}`);
    const seed = checkSeed(fn, opts.seed ?? 0);
    const s = (name: string) => subSeed(seed, name);

    // Linear and Conv1d layers start as PyTorch's do: U(±1/√fan_in), fan_in = in (conv: d_conv).
    const bound = (fanIn: number) => 1 / Math.sqrt(fanIn);
    const uniform = (name: string, count: number, b: number) => seededUniform(count, s(name), -b, b);
    this.in_proj_weight = this.addParam("in_proj_weight", uniform("in_proj_weight", 2 * dInner * dModel, bound(dModel)), [
      2 * dInner,
      dModel,
    ]);
    this.in_proj_bias = opts.bias ? this.addParam("in_proj_bias", uniform("in_proj_bias", 2 * dInner, bound(dModel)), [2 * dInner]) : null;
    this.conv_weight = this.addParam("conv_weight", uniform("conv_weight", dInner * k, bound(k)), [dInner, k]);
    this.conv_bias = (opts.convBias ?? true) ? this.addParam("conv_bias", uniform("conv_bias", dInner, bound(k)), [dInner]) : null;
    this.x_proj_weight = this.addParam("x_proj_weight", uniform("x_proj_weight", (R + 2 * n) * dInner, bound(dInner)), [R + 2 * n, dInner]);
    // Δ: the projection starts at U(±dt_rank^−½) and the bias at softplus⁻¹(dt) for dt
    // log-uniform in [dtMin, dtMax], so that softplus(bias) spans the chosen range of step sizes.
    this.dt_proj_weight = this.addParam("dt_proj_weight", uniform("dt_proj_weight", dInner * R, R ** -0.5), [dInner, R]);
    const rDt = mulberry32(s("dt_proj_bias"));
    const inverseSoftplusDt = Float32Array.from({ length: dInner }, () => {
      const dt = Math.max(floor, Math.exp(rDt() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)));
      return dt + Math.log(-Math.expm1(-dt)); // log(e^dt − 1), computed without cancellation
    });
    this.dt_proj_bias = this.addParam("dt_proj_bias", inverseSoftplusDt, [dInner]);
    // S4D-Real: A = −(1, 2, ..., n) in every channel, kept as its logarithm so A stays negative.
    const aLog = new Float32Array(dInner * n);
    for (let c = 0; c < dInner; c++) for (let j = 0; j < n; j++) aLog[c * n + j] = Math.log(j + 1);
    this.A_log = this.addParam("A_log", aLog, [dInner, n]);
    this.D = this.addParam("D", new Float32Array(dInner).fill(1), [dInner]);
    this.out_proj_weight = this.addParam("out_proj_weight", uniform("out_proj_weight", dModel * dInner, bound(dInner)), [dModel, dInner]);
    this.out_proj_bias = opts.bias ? this.addParam("out_proj_bias", uniform("out_proj_bias", dModel, bound(dInner)), [dModel]) : null;
  }

  /** The width of the residual stream (the name every sequence layer uses for it). */
  get h(): number {
    return this.dModel;
  }

  /** x (b, l, d_model) → out (b, l, d_model); with returnState, also the state after position l − 1. */
  forward(x: tf.Tensor): tf.Tensor;
  forward(x: tf.Tensor, opts: { returnState: true }): { y: tf.Tensor; state: MambaState };
  forward(x: tf.Tensor, opts?: { returnState?: boolean }): tf.Tensor | { y: tf.Tensor; state: MambaState };
  forward(x: tf.Tensor, opts: { returnState?: boolean } = {}): tf.Tensor | { y: tf.Tensor; state: MambaState } {
    if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[2] !== this.dModel || x.size === 0) {
      throw new Error(
        `MambaBlock.forward: x must have shape (b, l, d_model = ${this.dModel}), got ${x instanceof tf.Tensor ? formatShape(x.shape) : String(x)}`,
      );
    }
    const [, l] = x.shape;
    const { n, dtRank: R, dConv: k } = this;
    return tf.tidy(() => {
      // The projections' outputs are split by splitting their weights' rows: splitting the large
      // (b, l, ·) results on their last axis costs tens of ms per split on wasm (and a concat
      // backward), slicing the small weights almost nothing.
      const [xIn, z] = projectSplit(x, this.in_proj_weight, this.in_proj_bias, [this.dInner, this.dInner]); // (b, l, d_inner) each
      const xT = swapLast(xIn); // (b, d_inner, l)
      const u = silu(causalDepthwiseConv1d(xT, this.conv_weight, this.conv_bias ?? undefined)); // (b, d_inner, l)
      const [dtLow, B, C] = projectSplit(swapLast(u), this.x_proj_weight, null, [R, n, n]); // (b, l, dt_rank), (b, l, n), (b, l, n)
      // Δ before its bias and softplus: the scan adds dt_proj_bias and applies the softplus itself.
      const delta = swapLast(linear(dtLow, this.dt_proj_weight, null)); // (b, d_inner, l)
      const A = tf.neg(tf.exp(this.A_log)); // (d_inner, n)
      const scan = selectiveScan(u, delta, A, swapLast(B), swapLast(C), {
        D: this.D,
        z: swapLast(z),
        deltaBias: this.dt_proj_bias,
        deltaSoftplus: true,
      }); // y: (b, d_inner, l), lastState: (b, d_inner, n)
      const out = linear(swapLast(scan.y), this.out_proj_weight, this.out_proj_bias); // (b, l, d_model)
      if (!opts.returnState) return out;
      // The convolution's state is its last d_conv inputs, zero-padded in front when l < d_conv.
      const conv =
        l >= k
          ? tf.slice(xT, [0, 0, l - k], [-1, -1, k])
          : tf.pad(xT, [
              [0, 0],
              [0, 0],
              [k - l, 0],
            ]); // (b, d_inner, d_conv)
      return { y: out, state: { conv, ssm: scan.lastState } };
    });
  }

  /** Nothing to precompute: `step` reads the parameters directly (kept for the layer interface). */
  async setupRecurrence(): Promise<void> {}

  /** The state before the first position: zeros, conv (b, d_inner, d_conv) and ssm (b, d_inner, n). */
  initState(b: number): MambaState {
    checkIntArg("MambaBlock.initState", "b", b);
    return { conv: tf.zeros([b, this.dInner, this.dConv]), ssm: tf.zeros([b, this.dInner, this.n]) };
  }

  /** One position: x (b, d_model) and the state before it → out (b, d_model) and the state after it. */
  step(state: MambaState, x: tf.Tensor): { y: tf.Tensor; state: MambaState } {
    const fn = "MambaBlock.step";
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== this.dModel) {
      throw new Error(
        `${fn}: x must have shape (b, d_model = ${this.dModel}), got ${x instanceof tf.Tensor ? formatShape(x.shape) : String(x)}`,
      );
    }
    const b = x.shape[0];
    if (!isMambaState(state))
      throw new Error(`${fn}: state must be {conv, ssm} tensors (from initState or forward with returnState), got ${String(state)}`);
    const want = (t: tf.Tensor, name: string, shape: number[], what: string) => {
      if (t.rank !== shape.length || t.shape.some((s, i) => s !== shape[i]))
        throw new Error(`${fn}: state.${name} must have shape ${what} = ${formatShape(shape)}, got ${formatShape(t.shape)}`);
    };
    want(state.conv, "conv", [b, this.dInner, this.dConv], "(b, d_inner, d_conv)");
    want(state.ssm, "ssm", [b, this.dInner, this.n], "(b, d_inner, n)");
    const { n, dtRank: R, dConv: k } = this;
    return tf.tidy(() => {
      const xz = linear(x, this.in_proj_weight, this.in_proj_bias); // (b, 2·d_inner)
      const [xIn, z] = tf.split(xz, 2, 1); // (b, d_inner) each
      // Shift the window left by one and append this input: the last d_conv inputs.
      const window = tf.expandDims(xIn, 2); // (b, d_inner, 1)
      const conv = k > 1 ? tf.concat([tf.slice(state.conv, [0, 0, 1], [-1, -1, k - 1]), window], 2) : window; // (b, d_inner, d_conv)
      let xc = tf.sum(tf.mul(conv, this.conv_weight), 2); // (b, d_inner)
      if (this.conv_bias) xc = tf.add(xc, this.conv_bias);
      const u = silu(xc); // (b, d_inner)
      const [dtLow, B, C] = tf.split(linear(u, this.x_proj_weight, null), [R, n, n], 1); // (b, dt_rank), (b, n), (b, n)
      const delta = tf.softplus(tf.add(linear(dtLow, this.dt_proj_weight, null), this.dt_proj_bias)); // (b, d_inner)
      const A = tf.neg(tf.exp(this.A_log)); // (d_inner, n)
      const dA = tf.exp(tf.mul(tf.expandDims(delta, 2), A)); // (b, d_inner, n): ZOH for A
      const dBu = tf.mul(tf.expandDims(tf.mul(delta, u), 2), tf.expandDims(B, 1)); // (b, d_inner, n): Euler for B
      const ssm = tf.add(tf.mul(state.ssm, dA), dBu); // (b, d_inner, n)
      const y = tf.mul(tf.add(tf.sum(tf.mul(ssm, tf.expandDims(C, 1)), 2), tf.mul(this.D, u)), silu(z)); // (b, d_inner)
      return { y: linear(y, this.out_proj_weight, this.out_proj_bias), state: { conv, ssm } };
    });
  }

  /**
   * Copies weights given in the PyTorch layout into this block. Keys may be the state-dict names
   * ("in_proj.weight", "conv1d.weight", "dt_proj.bias", "A_log", ...) or the short names of the
   * golden fixtures ("in_proj_w", "conv_w", "dt_proj_b", ...). Every parameter of the block must be
   * given with its exact shape (conv1d.weight may keep PyTorch's middle axis: (d_inner, 1, d_conv));
   * nothing is assigned unless all of them check out.
   */
  loadTorchParams(params: Record<string, tf.Tensor>): void {
    const fn = "MambaBlock.loadTorchParams";
    if (typeof params !== "object" || params === null) throw new Error(`${fn}: params must be an object of tensors, got ${String(params)}`);
    const own = this.parameters();
    const known = new Set<string>();
    const pairs: [tf.Variable, tf.Tensor][] = [];
    for (const [ours, torch, short] of TORCH_NAMES) {
      const aliases = [...new Set([ours, torch, short])];
      aliases.forEach((name) => known.add(name));
      const given = aliases.filter((name) => params[name] !== undefined);
      const v = own[ours];
      if (!v) {
        if (given.length) throw new Error(`${fn}: params has ${given[0]}, but this block has no ${ours} (it was built without that bias)`);
        continue;
      }
      if (given.length === 0)
        throw new Error(
          `${fn}: params lacks ${short}${torch !== short ? ` (or ${torch})` : ""}, expected shape ${this.describeShape(ours)}`,
        );
      if (given.length > 1) throw new Error(`${fn}: params gives ${ours} twice, as ${given.join(" and ")}`);
      const t = params[given[0]];
      if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${given[0]} must be a tf.Tensor, got ${typeof t}`);
      // PyTorch's Conv1d keeps a middle axis of size 1 for the depthwise weight: (d_inner, 1, d_conv).
      const shape = ours === "conv_weight" && t.rank === 3 && t.shape[1] === 1 ? [t.shape[0], t.shape[2]] : t.shape;
      if (shape.length !== v.rank || shape.some((s, i) => s !== v.shape[i])) {
        throw new Error(`${fn}: ${given[0]} must have shape ${this.describeShape(ours)}, got ${formatShape(t.shape)}`);
      }
      pairs.push([v, t]);
    }
    const unknown = Object.keys(params).filter((name) => !known.has(name));
    if (unknown.length)
      throw new Error(`${fn}: unknown parameter name(s) ${unknown.join(", ")}; expected the names of a PyTorch Mamba block`);
    for (const [v, t] of pairs) tf.tidy(() => v.assign(tf.reshape(tf.cast(t, "float32"), v.shape)));
  }

  /** The shape of one parameter with the sizes it comes from, for error messages. */
  private describeShape(name: string): string {
    const { dModel, dInner, n, dConv, dtRank } = this;
    const what: Record<string, string> = {
      in_proj_weight: `(2·d_inner, d_model) = (${2 * dInner}, ${dModel})`,
      in_proj_bias: `(2·d_inner) = (${2 * dInner})`,
      conv_weight: `(d_inner, d_conv) = (${dInner}, ${dConv})`,
      conv_bias: `(d_inner) = (${dInner})`,
      x_proj_weight: `(dt_rank + 2n, d_inner) = (${dtRank + 2 * n}, ${dInner})`,
      dt_proj_weight: `(d_inner, dt_rank) = (${dInner}, ${dtRank})`,
      dt_proj_bias: `(d_inner) = (${dInner})`,
      A_log: `(d_inner, n) = (${dInner}, ${n})`,
      D: `(d_inner) = (${dInner})`,
      out_proj_weight: `(d_model, d_inner) = (${dModel}, ${dInner})`,
      out_proj_bias: `(d_model) = (${dModel})`,
    };
    return what[name];
  }

  /**
   * A block sized from PyTorch-layout weights (names as for `loadTorchParams`): d_model from
   * in_proj, d_inner and n from A_log, d_conv from conv1d, dt_rank from dt_proj, and the optional
   * biases from their presence.
   */
  static fromTorchParams(params: Record<string, tf.Tensor>): MambaBlock {
    const fn = "MambaBlock.fromTorchParams";
    if (typeof params !== "object" || params === null) throw new Error(`${fn}: params must be an object of tensors, got ${String(params)}`);
    const get = (ours: string): tf.Tensor | undefined => {
      const names = TORCH_NAMES.find((r) => r[0] === ours)!;
      return names.map((name) => params[name]).find((t) => t !== undefined);
    };
    const need = (ours: string, rank: number, what: string): tf.Tensor => {
      const t = get(ours);
      const names = TORCH_NAMES.find((r) => r[0] === ours)!;
      if (!(t instanceof tf.Tensor) || t.rank < rank)
        throw new Error(
          `${fn}: params must hold ${names[2]} (or ${names[1]}) of shape ${what}, got ${t instanceof tf.Tensor ? formatShape(t.shape) : String(t)}`,
        );
      return t;
    };
    const inProj = need("in_proj_weight", 2, "(2·d_inner, d_model)");
    const aLog = need("A_log", 2, "(d_inner, n)");
    const conv = need("conv_weight", 2, "(d_inner, d_conv)");
    const dtProj = need("dt_proj_weight", 2, "(d_inner, dt_rank)");
    const size = (t: tf.Tensor, axis: number) => (t.shape as number[])[axis];
    const block = new MambaBlock({
      dModel: size(inProj, 1),
      dInner: size(aLog, 0),
      n: size(aLog, 1),
      dConv: size(conv, conv.rank - 1),
      dtRank: size(dtProj, 1),
      bias: get("in_proj_bias") !== undefined,
      convBias: get("conv_bias") !== undefined,
    });
    try {
      block.loadTorchParams(params);
    } catch (e) {
      block.dispose();
      throw e;
    }
    return block;
  }
}
