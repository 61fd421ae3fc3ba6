/**
 * How a hand-written kernel joins TensorFlow.js: each op is a named tfjs kernel with one
 * implementation per backend (registered here) and a gradient registered beside the op.
 *
 * - host kernels (cpu and wasm): typed-array code that reads its inputs and writes its outputs in
 *   host memory — the same function serves both backends;
 * - WebGPU kernels: WGSL compute shaders run through tfjs-backend-webgpu's program machinery.
 *
 * An op calls `runKernel` when its kernel exists for the active backend, and otherwise falls back
 * to its plain-tf-ops reference (e.g. on tfjs-node, where composing native ops is the fast path).
 *
 * `S4_KERNELS=reference` in the environment registers none of them, so that every op takes its
 * reference path on every backend, as it does on tfjs-node(-gpu).
 */
import * as tf from "@tensorflow/tfjs";
import { sizeOf, type Attrs, type HostKernelSpec } from "./host-kernel";
import { runHostKernel } from "./host-threads";

/** The values of S4_KERNELS: "fast" (the default) registers the hand-written kernels, "reference" none. */
export const KERNEL_MODES = ["fast", "reference"] as const;
export type KernelMode = (typeof KERNEL_MODES)[number];

/** The kernel mode an environment asks for: S4_KERNELS unset or empty means "fast". */
export function kernelModeFrom(env: Record<string, string | undefined>): KernelMode {
  const value = env.S4_KERNELS;
  if (value === undefined || value === "") return "fast";
  if ((KERNEL_MODES as readonly string[]).includes(value)) return value as KernelMode;
  throw new Error(
    `S4_KERNELS must be unset, "fast" (hand-written kernels) or "reference" (plain tf ops only), got ${JSON.stringify(value)}`,
  );
}

/** Read once, when the kernels register at import (a bundle without `process` is "fast"). */
const MODE: KernelMode = kernelModeFrom(typeof process === "undefined" ? {} : process.env);

/** Whether this process registers the hand-written kernels ("fast") or leaves every op on its reference ("reference"). */
export function kernelMode(): KernelMode {
  return MODE;
}

/** One input as a host kernel sees it: float32 values (row-major) and the shape. */
export interface HostInput {
  values: Float32Array;
  shape: number[];
}

/** One output of a host kernel. */
export interface HostOutput {
  values: Float32Array;
  shape: number[];
}

export type { Attrs };

const HOST_BACKENDS = ["cpu", "wasm"] as const;

/** Every kernel name of this library, on any backend (registered with tfjs unless S4_KERNELS=reference). */
const registered = new Set<string>();

/** The names of the hand-written kernels (e.g. to switch them off and time the tf-ops references), registered or not. */
export function registeredKernelNames(): string[] {
  return [...registered];
}

/**
 * Registers a hand-written kernel with tfjs, unless S4_KERNELS=reference: every kernel of this
 * library goes through here (the helpers below, and kernels that drive their programs themselves).
 */
export function registerKernelConfig(config: tf.KernelConfig): void {
  registered.add(config.kernelName);
  if (MODE === "reference") return;
  tf.registerKernel(config.backendName === "webgpu" ? throwingDeviceErrors(config) : config);
}

/** What a WebGPU device reported as uncaptured errors, per device, in order. */
const deviceErrors = new WeakMap<object, string[]>();

interface ErrorReportingDevice {
  addEventListener(type: "uncapturederror", listener: (e: { error?: { message?: string } }) => void): void;
}

/** The error list of the backend's device, listening from the first call on (null: no device). */
function errorsOf(backend: unknown): string[] | null {
  const device = (backend as { device?: Partial<ErrorReportingDevice> }).device;
  if (!device || typeof device.addEventListener !== "function") return null;
  let list = deviceErrors.get(device);
  if (!list) {
    const errors: string[] = [];
    (device as ErrorReportingDevice).addEventListener("uncapturederror", (e) => errors.push(e.error?.message ?? String(e)));
    deviceErrors.set(device, (list = errors));
  }
  return list;
}

/**
 * A WebGPU kernel that throws when the device rejects one of its programs (a WGSL error, a
 * binding over the device's limits) instead of returning whatever its output buffer held. Dawn
 * in Node reports such errors as events during the call that caused them, so they are seen
 * before the kernel returns; a browser may report them later, and then only in the console.
 */
function throwingDeviceErrors(config: tf.KernelConfig): tf.KernelConfig {
  return {
    ...config,
    kernelFunc: (args) => {
      const errors = errorsOf(args.backend);
      const before = errors?.length ?? 0;
      const out = config.kernelFunc(args);
      if (errors && errors.length > before) {
        // The rejected program sits in the backend's open batch of commands, which the device
        // would refuse as a whole: submitting it now keeps later work out of it (other work
        // batched with it, since the last read-back, is lost with it).
        const be = args.backend as { endComputePassEncoder?: () => void; submitQueue?: () => void };
        be.endComputePassEncoder?.();
        be.submitQueue?.();
        const first = errors[before].split("\n").filter(Boolean).slice(0, 3).join(" | ");
        throw new Error(`${config.kernelName} (webgpu): the device rejected a program: ${first}`);
      }
      return out;
    },
  };
}

/** The parts of tfjs's cpu and wasm backends a host kernel touches. */
interface HostBackend {
  readSync(dataId: object): unknown;
  // cpu
  makeTensorInfo?(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
  // wasm: tensors live in the module's heap at memoryOffset; without values makeOutput allocates
  makeOutput?(shape: number[], dtype: string, memoryOffset?: undefined, values?: Float32Array): tf.TensorInfo;
  dataIdMap?: { get(dataId: object): { memoryOffset: number; dtype: string } | undefined };
  wasm?: { HEAPU8: Uint8Array };
}

/** A kernel's inputs in the order of `names`, with a clear error for a missing one. */
function inputTensors(kernelName: string, names: readonly string[], inputs: tf.NamedTensorInfoMap): tf.TensorInfo[] {
  return names.map((name) => {
    const t = inputs[name];
    if (!t) throw new Error(`${kernelName}: missing input "${name}"`);
    return t;
  });
}

/**
 * A tensor's float32 values where the backend keeps them: a view of the wasm heap (valid until
 * the next allocation in it), the cpu backend's own array, or a converted copy for other dtypes.
 */
function hostView(b: HostBackend, info: tf.TensorInfo): Float32Array {
  const entry = b.wasm ? b.dataIdMap?.get(info.dataId) : undefined;
  if (entry && entry.dtype === "float32") return new Float32Array(b.wasm!.HEAPU8.buffer, entry.memoryOffset, sizeOf(info.shape));
  const v = b.readSync(info.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * Registers `run` as kernel `kernelName` on the cpu and wasm backends: the simple form of a host
 * kernel, for one that runs on the calling thread and makes its own outputs (the notebooks write
 * theirs this way). `inputNames` fixes the order in which `run` receives the inputs of
 * `runKernel(kernelName, {name: tensor, ...})`; it reads them where they lie (no copy), so it must
 * neither change them nor return them as outputs. The library's own kernels use
 * registerHostKernelSpec, which runs on threads.
 */
export function registerHostKernel(
  kernelName: string,
  inputNames: readonly string[],
  run: (inputs: HostInput[], attrs: Attrs) => HostOutput | HostOutput[],
): void {
  for (const backendName of HOST_BACKENDS) {
    registerKernelConfig({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const b = backend as unknown as HostBackend;
        const tensors = inputTensors(kernelName, inputNames, inputs);
        const out = run(
          tensors.map((t) => ({ values: hostView(b, t), shape: t.shape })),
          (attrs ?? {}) as Attrs,
        );
        // after run: a new tensor can grow the wasm heap, which invalidates the views
        const make = (o: HostOutput) =>
          b.makeTensorInfo ? b.makeTensorInfo(o.shape, "float32", o.values) : b.makeOutput!(o.shape, "float32", undefined, o.values);
        return Array.isArray(out) ? out.map(make) : make(out);
      },
    });
  }
}

/**
 * Registers a host kernel written as phases of independent units (host-kernel.ts) on the cpu and
 * wasm backends; it runs on every thread set (host-threads.ts). On wasm the kernel reads its
 * inputs where they lie in the heap and, on one thread, writes its outputs there too: the outputs
 * are allocated first, since an allocation can grow the heap and invalidate earlier views.
 */
export function registerHostKernelSpec(spec: HostKernelSpec): void {
  for (const backendName of HOST_BACKENDS) {
    registerKernelConfig({
      kernelName: spec.name,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const b = backend as unknown as HostBackend;
        const tensors = inputTensors(spec.name, spec.inputs, inputs);
        const shapes = tensors.map((t) => t.shape);
        const a = (attrs ?? {}) as Attrs;
        const plan = spec.plan(shapes, a);
        // cpu names its constructor makeTensorInfo; wasm has only makeOutput (cpu's takes other arguments)
        const infos = plan.outputs.map((shape) =>
          b.makeTensorInfo ? b.makeTensorInfo(shape, "float32", new Float32Array(sizeOf(shape))) : b.makeOutput!(shape, "float32"),
        );
        const view = (info: tf.TensorInfo) => hostView(b, info);
        runHostKernel(spec, plan, tensors.map(view), shapes, a, infos.map(view));
        return infos.length === 1 ? infos[0] : infos;
      },
    });
  }
}

/** A WGSL program in the shape tfjs-backend-webgpu compiles: inputs are bound as read-only
 * `array<f32>` buffers named after `variableNames`, the output as `result`, the step's uniforms as
 * fields of `uniforms` (`i32` or `f32`, in the order the step passes them); the body defines
 * `fn main(index : i32)`, run once per output element. */
export interface WgslProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  uniforms?: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  getUserCode: () => string;
}

/**
 * A flat program with one thread per output element (workgroups of `workgroupSize`, 64 by
 * default, spread over x and y when there are more than 65 535 of them), or `threads` threads when
 * given. `uniforms` declares the extra fields, e.g. "n : i32, lr : f32,". In the body, `index` is
 * the thread's global number; a kernel that works in blocks reads the builtins the program's entry
 * point copies into `localIndex` (the thread within its workgroup) and `workgroupId`, declares
 * `var<workgroup>` memory and synchronises with `workgroupBarrier()`.
 */
export function flatProgram(
  shaderKey: string,
  variableNames: string[],
  outputShape: number[],
  body: string,
  uniforms = "",
  threads = outputShape.reduce((a, b) => a * b, 1),
  workgroupSize = 64,
): WgslProgram {
  if (!Number.isInteger(workgroupSize) || workgroupSize < 1 || workgroupSize > 256) {
    throw new Error(`flatProgram: workgroupSize must be an integer from 1 to 256 (WebGPU's guaranteed limit), got ${workgroupSize}`);
  }
  const groups = Math.ceil(threads / workgroupSize);
  const x = Math.min(groups, 65535);
  return {
    variableNames,
    outputShape,
    shaderKey,
    uniforms,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [x, Math.ceil(groups / x), 1],
    workgroupSize: [workgroupSize, 1, 1],
    size: true,
    getUserCode: () => body,
  };
}

/** A float32 uniform of a step (a plain number is an int32 one). */
export interface F32Uniform {
  f32: number;
}

/** Marks `value` as a float32 uniform (declared `name : f32,` in the program's `uniforms`). */
export function f32(value: number): F32Uniform {
  return { f32: value };
}

/** One step of a WebGPU kernel: a program, which tensors it reads, and its uniforms. */
export interface WgslStep {
  program: WgslProgram;
  /** Indices into [...kernel inputs, ...outputs of the earlier steps]. */
  inputs: number[];
  /** In declaration order: numbers are int32 uniforms, f32(x) float32 ones. */
  uniforms?: (number | F32Uniform)[];
  /** false: an intermediate result for later steps, freed at the end, not returned. */
  output?: boolean;
  /** Where this result goes among the kernel's outputs (default: in the order of the steps);
   * lets a step that others read run first without being the first output. */
  outputIndex?: number;
}

/**
 * Registers a WebGPU kernel that runs its programs in order. Each program has one output; a
 * program may read the outputs of earlier ones (e.g. partial sums reduced by a second pass).
 */
export function registerWebGPUKernel(
  kernelName: string,
  inputNames: readonly string[],
  programs: (shapes: number[][], attrs: Attrs) => WgslStep[],
): void {
  registerKernelConfig({
    kernelName,
    backendName: "webgpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as unknown as {
        runWebGPUProgram(p: WgslProgram, ins: tf.TensorInfo[], dtype: string, uniforms?: { type: string; data: number[] }[]): tf.TensorInfo;
        disposeData(dataId: object): void;
      };
      const pool: tf.TensorInfo[] = inputNames.map((name) => {
        const t = inputs[name];
        if (!t) throw new Error(`${kernelName}: missing input "${name}"`);
        return t;
      });
      const plan = programs(
        pool.map((t) => t.shape),
        (attrs ?? {}) as Attrs,
      );
      const outs: { at: number; info: tf.TensorInfo }[] = [],
        temps: tf.TensorInfo[] = [];
      for (const { program, inputs: which, uniforms, output, outputIndex } of plan) {
        const values = uniforms?.map((v) => (typeof v === "number" ? { type: "int32", data: [v] } : { type: "float32", data: [v.f32] }));
        const out = b.runWebGPUProgram(
          program,
          which.map((i) => pool[i]),
          "float32",
          values,
        );
        pool.push(out);
        if (output === false) temps.push(out);
        else outs.push({ at: outputIndex ?? outs.length, info: out });
      }
      for (const t of temps) b.disposeData(t.dataId);
      outs.sort((a, b) => a.at - b.at);
      return outs.length === 1 ? outs[0].info : outs.map((o) => o.info);
    },
  });
}

/** True when `kernelName` has an implementation on the active backend. */
export function hasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/** Runs a registered kernel (recorded on the gradient tape like any tfjs op). */
export function runKernel(kernelName: string, inputs: Record<string, tf.Tensor>, attrs: Attrs = {}): tf.Tensor | tf.Tensor[] {
  return tf.engine().runKernel(kernelName, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as
    tf.Tensor | tf.Tensor[];
}

export { hostThreads, setHostThreads } from "./host-threads";
