/**
 * Golden-value fixtures: files `{generator, cases: [{name, fn, args, expected, atol, rtol, note}]}`
 * produced by an independent float64 implementation. Each `fn` (snake_case, as in the
 * walkthroughs) maps to a function here that calls the library and returns plain JSON values in
 * the fixture's own encoding: nested arrays, `{re, im}` for complex arrays, lists for tuples.
 */
import * as tf from "@tensorflow/tfjs";
import { CMatrix, CVector } from "./linalg";
import { CTensor } from "./complex";
import { makeDPLRHiPPO, makeHiPPO, makeNPLRHiPPO } from "./hippo";
import { causalConvolution, discretize, kConv, scanSSM } from "./ssm";
import { discreteDPLR, kernelDPLR } from "./s4";
import { s4dKernel, Discretization } from "./s4d";
import { selectiveScan } from "./kernels/selective-scan";
import { causalDepthwiseConv1d } from "./kernels/depthwise-conv1d";
import { causalConv } from "./kernels/causal-conv";
import { MambaBlock } from "./nn/mamba-block";

export type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

export interface FixtureCase {
  name: string;
  fn: string;
  args: Record<string, Json>;
  expected: Json;
  atol: number;
  rtol: number;
  note?: string;
}

export interface FixtureFile {
  generator?: string;
  cases: FixtureCase[];
}

export interface CaseResult {
  name: string;
  fn: string;
  pass: boolean;
  /** Largest |got − expected| over all compared numbers (NaN when the case could not run). */
  maxAbsErr: number;
  /** Largest |got − expected| / (atol + rtol·|expected|): ≤ 1 passes. */
  worstRatio: number;
  error?: string;
}

// ---- Decoding fixture values ---------------------------------------------------------------------

const isComplex = (v: Json): v is { re: Json; im: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && "re" in v && "im" in v;

function flatten(v: Json): number[] {
  return Array.isArray(v) ? v.flatMap(flatten) : [v as number];
}

function shapeOf(v: Json): number[] {
  const s: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) s.push(x.length);
  return s;
}

function tensor(v: Json, what: string): tf.Tensor {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a nested array, got ${JSON.stringify(v).slice(0, 40)}`);
  return tf.tensor(flatten(v), shapeOf(v), "float32");
}

function ctensor(v: Json, what: string): CTensor {
  if (!isComplex(v)) throw new Error(`${what}: expected a complex array {re, im}`);
  return { re: tensor(v.re, `${what}.re`), im: tensor(v.im, `${what}.im`) };
}

function cvector(v: Json, what: string): CVector {
  if (isComplex(v)) return { re: Float64Array.from(flatten(v.re)), im: Float64Array.from(flatten(v.im)) };
  if (Array.isArray(v)) return { re: Float64Array.from(flatten(v)), im: new Float64Array(flatten(v).length) };
  throw new Error(`${what}: expected a vector`);
}

function num(v: Json, what: string): number {
  if (typeof v !== "number") throw new Error(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

// ---- Encoding library values -----------------------------------------------------------------------

function nested(data: ArrayLike<number>, shape: number[]): Json {
  if (shape.length === 0) return data[0];
  if (shape.length === 1) return Array.from(data);
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nested(Array.prototype.slice.call(data, i * inner, (i + 1) * inner), shape.slice(1)));
}

function fromCMatrix(m: CMatrix): Json {
  return { re: nested(m.re, [m.rows, m.cols]), im: nested(m.im, [m.rows, m.cols]) };
}

const fromCVector = (v: CVector): Json => ({ re: Array.from(v.re), im: Array.from(v.im) });

// ---- The fn registry --------------------------------------------------------------------------------

/** A result: plain JSON whose leaves may still be tensors (read asynchronously afterwards, so the
 * checker also runs on backends without synchronous reads, such as WebGPU). */
export type Output = Json | tf.Tensor | Output[] | { [key: string]: Output };
type FixtureFn = (args: Record<string, Json>) => Output;

function tensorsIn(out: Output): tf.Tensor[] {
  if (out instanceof tf.Tensor) return [out];
  if (Array.isArray(out)) return out.flatMap(tensorsIn);
  if (typeof out === "object" && out !== null) return Object.values(out).flatMap(tensorsIn);
  return [];
}

/** Replaces every tensor leaf by nested arrays of its values, disposing it. */
async function resolveOutput(out: Output): Promise<Json> {
  if (out instanceof tf.Tensor) {
    const data = await out.data();
    const shape = out.shape;
    out.dispose();
    return nested(data, shape);
  }
  if (Array.isArray(out)) {
    const items: Json[] = [];
    for (const o of out) items.push(await resolveOutput(o));
    return items;
  }
  if (typeof out === "object" && out !== null) {
    const obj: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(out)) obj[k] = await resolveOutput(v);
    return obj;
  }
  return out;
}

/** Calls fn inside tf.tidy, keeping only the tensors of its result, then reads them. */
async function evaluate(fn: FixtureFn, args: Record<string, Json>): Promise<Json> {
  let out: Output = null;
  tf.tidy(() => {
    out = fn(args);
    for (const t of tensorsIn(out)) tf.keep(t);
  });
  return resolveOutput(out);
}

/** A MambaBlock sized and loaded from a fixture's PyTorch-layout params; the caller disposes it. */
function mambaFromFixture(a: Record<string, Json>): MambaBlock {
  const raw = a.params;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("params: expected an object of PyTorch-layout arrays");
  const params = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, tensor(v, `params.${k}`)]));
  return MambaBlock.fromTorchParams(params);
}

const dplrTensors = (a: Record<string, Json>) => ({
  Lambda: ctensor(a.Lambda, "Lambda"),
  P: ctensor(a.P, "P"),
  Q: ctensor(a.Q, "Q"),
  B: ctensor(a.B, "B"),
  C: ctensor(a.C, "C"),
});

/** Sorts indices by Im(Λ), then Re(Λ). */
function sortByLambda(Lambda: CVector): number[] {
  return Array.from(Lambda.re, (_, i) => i).sort((i, j) => Lambda.im[i] - Lambda.im[j] || Lambda.re[i] - Lambda.re[j]);
}

export const FIXTURE_FNS: Record<string, FixtureFn> = {
  make_hippo: (a) => makeHiPPO(num(a.N, "N")).toNested(),
  make_nplr_hippo: (a) => {
    const { A, P, B } = makeNPLRHiPPO(num(a.N, "N"));
    return [A.toNested(), Array.from(P.re), Array.from(B.re)];
  },
  make_dplr_hippo: (a) => {
    const { Lambda, P, B } = makeDPLRHiPPO(num(a.N, "N"));
    const order = sortByLambda(Lambda);
    const pick = (v: Float64Array) => order.map((i) => v[i]);
    const pcb = { re: P.re.map((pr, i) => pr * B.re[i] + P.im[i] * B.im[i]), im: P.re.map((pr, i) => P.im[i] * B.re[i] - pr * B.im[i]) };
    return {
      Lambda_sorted_by_imag: { re: pick(Lambda.re), im: pick(Lambda.im) },
      P_times_conj_B_sorted: { re: pick(pcb.re), im: pick(pcb.im) },
      abs_P_sorted: order.map((i) => Math.hypot(P.re[i], P.im[i])),
    };
  },
  discretize: (a) => {
    const r = discretize(
      tensor(a.A, "A") as tf.Tensor2D,
      tensor(a.B, "B") as tf.Tensor2D,
      tensor(a.C, "C") as tf.Tensor2D,
      num(a.step, "step"),
    );
    return [r.Ab, r.Bb, r.Cb];
  },
  k_conv: (a) =>
    kConv(tensor(a.Ab, "Ab") as tf.Tensor2D, tensor(a.Bb, "Bb") as tf.Tensor2D, tensor(a.Cb, "Cb") as tf.Tensor2D, num(a.L, "L")),
  causal_convolution: (a) => causalConvolution(tensor(a.u, "u"), tensor(a.K, "K")),
  causal_convolution_batched: (a) => causalConv(tensor(a.u, "u"), tensor(a.k, "k")),
  scan_ssm: (a) => {
    const r = scanSSM(
      tensor(a.Ab, "Ab") as tf.Tensor2D,
      tensor(a.Bb, "Bb") as tf.Tensor2D,
      tensor(a.Cb, "Cb") as tf.Tensor2D,
      tensor(a.u, "u") as tf.Tensor2D,
    );
    return [r.x, r.y];
  },
  kernel_dplr: (a) => kernelDPLR(dplrTensors(a), num(a.step, "step"), num(a.L, "L")),
  discrete_dplr: (a) => {
    const r = discreteDPLR(
      cvector(a.Lambda, "Lambda"),
      cvector(a.P, "P"),
      cvector(a.Q, "Q"),
      cvector(a.B, "B"),
      cvector(a.C, "C"),
      num(a.step, "step"),
      num(a.L, "L"),
    );
    return [fromCMatrix(r.Ab), fromCVector(r.Bb), fromCVector(r.Cb)];
  },
  s4d_kernel: (a) => {
    if (a.part !== undefined && a.part !== "2real") throw new Error(`s4d_kernel: part must be "2real", got ${JSON.stringify(a.part)}`);
    return s4dKernel(
      ctensor(a.Lambda, "Lambda"),
      ctensor(a.B, "B"),
      ctensor(a.C, "C"),
      num(a.step, "step"),
      num(a.L, "L"),
      (a.method ?? "zoh") as Discretization,
    );
  },
  selective_scan: (a) => {
    const opt = (key: string) => (a[key] == null ? undefined : tensor(a[key], key));
    const r = selectiveScan(tensor(a.u, "u"), tensor(a.delta, "delta"), tensor(a.A, "A"), tensor(a.B, "B"), tensor(a.C, "C"), {
      D: opt("D"),
      z: opt("z"),
      deltaBias: opt("delta_bias"),
      deltaSoftplus: a.delta_softplus === true,
    });
    return [r.y, r.lastState];
  },
  mamba_block: (a) => {
    const block = mambaFromFixture(a);
    try {
      if (a.return_state !== true) return block.forward(tensor(a.x, "x"));
      const r = block.forward(tensor(a.x, "x"), { returnState: true });
      return [r.y, r.state.conv, r.state.ssm];
    } finally {
      block.dispose();
    }
  },
  mamba_step: (a) => {
    const block = mambaFromFixture(a);
    try {
      const r = block.step({ conv: tensor(a.conv_state, "conv_state"), ssm: tensor(a.ssm_state, "ssm_state") }, tensor(a.x_t, "x_t"));
      return [r.y, r.state.conv, r.state.ssm];
    } finally {
      block.dispose();
    }
  },
  causal_depthwise_conv1d: (a) => causalDepthwiseConv1d(tensor(a.x, "x"), tensor(a.w, "w"), a.b == null ? undefined : tensor(a.b, "b")),
};

// ---- Comparison ----------------------------------------------------------------------------------------

/** Walks got and expected together; throws on a structural mismatch; returns the worst errors. */
function compare(got: Json, exp: Json, atol: number, rtol: number, path: string): { maxAbsErr: number; worstRatio: number } {
  let maxAbsErr = 0,
    worstRatio = 0;
  const visit = (g: Json, e: Json, p: string): void => {
    if (typeof e === "number") {
      if (typeof g !== "number") throw new Error(`${p}: expected a number, got ${JSON.stringify(g)?.slice(0, 40)}`);
      const err = Math.abs(g - e);
      maxAbsErr = Math.max(maxAbsErr, Number.isNaN(err) ? Infinity : err);
      worstRatio = Math.max(worstRatio, Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(e)));
    } else if (Array.isArray(e)) {
      if (!Array.isArray(g) || g.length !== e.length)
        throw new Error(`${p}: expected ${e.length} entries, got ${Array.isArray(g) ? g.length : typeof g}`);
      e.forEach((x, i) => visit(g[i], x, `${p}[${i}]`));
    } else if (typeof e === "object" && e !== null) {
      if (typeof g !== "object" || g === null || Array.isArray(g)) throw new Error(`${p}: expected an object`);
      for (const k of Object.keys(e)) {
        if (!(k in g)) throw new Error(`${p}: missing key "${k}"`);
        visit((g as Record<string, Json>)[k], (e as Record<string, Json>)[k], `${p}.${k}`);
      }
    } else if (g !== e) {
      throw new Error(`${p}: expected ${JSON.stringify(e)}, got ${JSON.stringify(g)}`);
    }
  };
  visit(got, exp, path);
  return { maxAbsErr, worstRatio };
}

/** Runs one case on the current tfjs backend. Never throws: failures come back in the result. */
export async function runFixtureCase(c: FixtureCase): Promise<CaseResult> {
  const fn = FIXTURE_FNS[c.fn];
  if (!fn)
    return {
      name: c.name,
      fn: c.fn,
      pass: false,
      maxAbsErr: NaN,
      worstRatio: NaN,
      error: `unknown fn "${c.fn}" (known: ${Object.keys(FIXTURE_FNS).join(", ")})`,
    };
  try {
    const got = await evaluate(fn, c.args);
    const { maxAbsErr, worstRatio } = compare(got, c.expected, c.atol, c.rtol, "result");
    return { name: c.name, fn: c.fn, pass: worstRatio <= 1, maxAbsErr, worstRatio };
  } catch (e) {
    return { name: c.name, fn: c.fn, pass: false, maxAbsErr: NaN, worstRatio: NaN, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Parses and validates a fixture file's text; `source` names it in errors. */
export function parseFixtureFile(text: string, source: string): FixtureFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${e instanceof Error ? e.message : e})`);
  }
  const cases = (data as FixtureFile | null)?.cases;
  if (!Array.isArray(cases)) throw new Error(`${source}: expected an object with a "cases" array`);
  cases.forEach((c, i) => {
    for (const key of ["name", "fn", "args", "expected", "atol", "rtol"] as const) {
      if (!(key in c)) throw new Error(`${source}: case ${i} lacks "${key}"`);
    }
  });
  return data as FixtureFile;
}
