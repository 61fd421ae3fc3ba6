/**
 * What the WebGPU selective scans share: the integer uniforms every program receives, program
 * builders, the δ program, and a runner that binds buffers by their WGSL names.
 *
 * WebGPU guarantees only 8 storage buffers per shader (the output among them), so no program
 * binds more than 7 inputs; that is why some per-step values are formed up front.
 */
import * as tf from "@tensorflow/tfjs";
import { flatProgram, WgslProgram } from "../registry";

/** The most states per channel: the sequential forward keeps them in a private array, the
 * chunked kernels their carries in workgroup memory. */
export const WEBGPU_MAX_STATES = 64;

/** Integer uniforms of every program: sizes, flags and an offset into a packed buffer (0 where
 * unused), passed in this order. */
export const UNIFORMS = "nb : i32, nd : i32, nl : i32, nn : i32, soft : i32, gate : i32, off : i32,";

/** A program run by `threads` threads (not one per output element), in workgroups of 64. */
export function threadProgram(
  shaderKey: string,
  variableNames: string[],
  outputShape: number[],
  threads: number,
  body: string,
): WgslProgram {
  return flatProgram(shaderKey, variableNames, outputShape, body, UNIFORMS, threads);
}

/** One thread per output element (the registry's flatProgram, with our uniforms). */
export function elementProgram(shaderKey: string, variableNames: string[], outputShape: number[], body: string): WgslProgram {
  return flatProgram(shaderKey, variableNames, outputShape, body, UNIFORMS);
}

/** δ (b, d, l): delta + bias, through softplus if asked (linear above 20, like Mamba). */
export const DELTA = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let raw = dlt[index] + dbias[(index / uniforms.nl) % uniforms.nd];
    var v = raw;
    if (uniforms.soft == 1 && raw <= 20.0) {
      // log(1 + e) equals e to float precision for tiny e, where log(1 + e) would round to 0
      v = select(log(1.0 + exp(raw)), exp(raw), raw < -15.0);
    }
    result[index] = v;
  }`;

export interface WebGPUBackendLike {
  runWebGPUProgram(
    p: WgslProgram,
    ins: tf.TensorInfo[],
    dtype: string,
    uniforms?: { type: string; data: number[] }[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  disposeData(dataId: object): void;
  device?: { limits?: { maxStorageBufferBindingSize?: number } };
}

/** How one program runs: into a given output (already filled, e.g. with zeros, for a program that
 * accumulates into it) and with the `off` uniform set. */
export interface RunOptions {
  output?: tf.TensorInfo;
  off?: number;
}

/** Runs programs whose inputs are named buffers: the kernel inputs under WGSL names, plus
 * intermediates added with `set`; `free` releases an intermediate. */
export function programRunner(be: WebGPUBackendLike, named: Record<string, tf.TensorInfo>, uniforms: number[]) {
  return {
    run(p: WgslProgram, opts: RunOptions = {}): tf.TensorInfo {
      const u = [...uniforms, opts.off ?? 0].map((v) => ({ type: "int32", data: [v] }));
      const ins = p.variableNames.map((name) => {
        const t = named[name];
        if (!t) throw new Error(`selectiveScan (webgpu): program ${p.shaderKey} reads unknown buffer "${name}"`);
        return t;
      });
      return be.runWebGPUProgram(p, ins, "float32", u, opts.output);
    },
    set(name: string, t: tf.TensorInfo): tf.TensorInfo {
      named[name] = t;
      return t;
    },
    free(...ts: tf.TensorInfo[]): void {
      for (const t of ts) be.disposeData(t.dataId);
    },
  };
}

/** The kernel inputs under their WGSL names; checks n against the forward's private array. */
export function bind(kernel: string, names: readonly string[], inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>) {
  const wgsl: Record<string, string> = {
    u: "uu",
    delta: "dlt",
    A: "aa",
    B: "bb",
    C: "cc",
    D: "dd",
    z: "zz",
    deltaBias: "dbias",
    dy: "gy",
    dLast: "gl",
  };
  const named: Record<string, tf.TensorInfo> = {};
  for (const name of names) {
    const t = inputs[name];
    if (!t) throw new Error(`${kernel}: missing input "${name}"`);
    named[wgsl[name]] = t;
  }
  const [b, d, l] = named.uu.shape;
  const n = named.aa.shape[1];
  if (n > WEBGPU_MAX_STATES) {
    throw new Error(`selectiveScan: the WebGPU kernel supports a state size n (A is (d, n)) of at most ${WEBGPU_MAX_STATES}, got n = ${n}`);
  }
  const uniforms = [b, d, l, n, attrs.deltaSoftplus === true ? 1 : 0, attrs.hasZ === true ? 1 : 0];
  return { named, b, d, l, n, uniforms };
}
