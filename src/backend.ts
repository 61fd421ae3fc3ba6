/**
 * Choosing the TensorFlow.js backend.
 *
 * Order of preference: tfjs-node-gpu (CUDA) → tfjs-node → WebGPU (Dawn for Node) → wasm → cpu.
 * Each candidate is used only if its package loads, the backend initializes, and a tiny op gives
 * the right answer. `S4_BACKEND=<name>` or `useBackend(name)` forces one choice.
 *
 * WebGPU is probed quietly: without a Vulkan loader or driver file (Linux) Dawn is never loaded,
 * and the automatic choice looks at the adapter from a child process, so Dawn's native warnings
 * reach the terminal only when WebGPU is kept or asked for by name.
 */
import * as tf from "@tensorflow/tfjs";
import { importEsm } from "./esm-import";
import { vulkanDriverProblem } from "./vulkan-driver";
import { probeAdapterQuietly } from "./webgpu-adapter-probe";

export type BackendName = "tensorflow-gpu" | "tensorflow" | "webgpu" | "wasm" | "cpu";

/** Preference order of `chooseBackend`. `tensorflow-gpu` and `tensorflow` share tfjs's name "tensorflow". */
export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"];

export interface BackendChoice {
  /** Our name of the backend that is now active. */
  name: BackendName;
  /** tfjs's own name of it (`tf.getBackend()`). */
  tfName: string;
  /** Why it was chosen: forced, or which candidates failed first and why. */
  reason: string;
}

let current: BackendChoice | null = null;

/** A software adapter (Mesa's llvmpipe/lavapipe) runs shaders on the CPU: correct, but slow. */
const softwareOnly = (description: string) => `software adapter only (${description}), slower than wasm`;

/**
 * Throws the reason when the automatic choice should pass WebGPU over, before Dawn is loaded
 * into this process: no Vulkan loader or driver file, no adapter, or only a software adapter.
 */
async function checkWebGPUQuietly(): Promise<void> {
  const noDriver = vulkanDriverProblem();
  if (noDriver) throw new Error(noDriver);
  const seen = await probeAdapterQuietly();
  if (seen.error) throw new Error(seen.error);
  if (!seen.adapter) throw new Error("no WebGPU adapter (Dawn found no usable Vulkan device)");
  if (seen.adapter.fallback) throw new Error(softwareOnly(seen.adapter.description));
}

async function registerWebGPU(allowSoftware: boolean): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the webgpu package and navigator.gpu have no types here
  const g = globalThis as any;
  if (!g.navigator?.gpu) {
    if (allowSoftware) {
      // Asked for by name: still no Dawn (and its warnings) where it cannot find a driver.
      const noDriver = vulkanDriverProblem();
      if (noDriver) throw new Error(`no WebGPU adapter: ${noDriver}`);
    } else {
      await checkWebGPUQuietly();
    }
    const webgpu = await importEsm("webgpu");
    Object.assign(g, webgpu.globals);
    const gpu = webgpu.create([]);
    if (g.navigator) Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  const adapter = await g.navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("no WebGPU adapter (needs a Vulkan, Metal or D3D12 driver)");
  // The automatic choice passes a software adapter over; asking for webgpu by name still gets it.
  const info = adapter.info ?? {};
  if (!allowSoftware && (info.isFallbackAdapter || adapter.isFallbackAdapter)) {
    throw new Error(softwareOnly(info.description || info.device || "fallback"));
  }
  require("@tensorflow/tfjs-backend-webgpu");
  // Every op on the GPU: by default tfjs-webgpu runs ops on small tensors on the host, and a
  // training step then moves small parameters and their results back and forth every step.
  tf.env().set("WEBGPU_CPU_FORWARD", false);
}

/** Loads the package behind a backend so that tfjs knows it; throws when it cannot load. */
async function register(name: BackendName, forced: boolean): Promise<string> {
  switch (name) {
    case "tensorflow-gpu":
      require("@tensorflow/tfjs-node-gpu");
      return "tensorflow";
    case "tensorflow":
      require("@tensorflow/tfjs-node");
      return "tensorflow";
    case "webgpu":
      await registerWebGPU(forced);
      return "webgpu";
    case "wasm":
      require("@tensorflow/tfjs-backend-wasm");
      return "wasm";
    case "cpu":
      return "cpu";
  }
}

function shortError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 240);
}

/** Activates one backend and checks it with a tiny matmul; throws with the reason if anything fails. */
async function activate(name: BackendName, forced: boolean): Promise<string> {
  const tfName = await register(name, forced);
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`tfjs could not initialize backend "${tfName}"`);
  await tf.ready();
  const probe = tf.tidy(() =>
    tf.matMul(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor2d([[5], [6]]),
    ),
  );
  const got = Array.from(await probe.data());
  probe.dispose();
  if (got[0] !== 17 || got[1] !== 39) throw new Error(`probe matmul gave [${got}], expected [17,39]`);
  return tfName;
}

function parseName(name: string, what: string): BackendName {
  if (!(BACKEND_ORDER as readonly string[]).includes(name)) {
    throw new Error(`${what}: unknown backend "${name}", expected one of ${BACKEND_ORDER.join(", ")}`);
  }
  return name as BackendName;
}

function announce(choice: BackendChoice, quiet: boolean): BackendChoice {
  current = choice;
  if (!quiet) console.log(`[s4-mamba] backend: ${choice.name} (${choice.reason})`);
  return choice;
}

/** Forces one backend; throws (naming the backend and the cause) if it does not work here. */
export async function useBackend(name: BackendName | string, opts: { quiet?: boolean } = {}): Promise<BackendChoice> {
  const wanted = parseName(name, "useBackend(name)");
  try {
    const tfName = await activate(wanted, true);
    return announce({ name: wanted, tfName, reason: "requested" }, opts.quiet ?? false);
  } catch (e) {
    throw new Error(`useBackend: backend "${wanted}" is not available here: ${shortError(e)}`);
  }
}

/**
 * Picks the best backend that works: `S4_BACKEND` if set, else the first of BACKEND_ORDER that
 * loads and passes the probe. Logs one line saying which and why.
 */
export async function chooseBackend(opts: { quiet?: boolean; order?: readonly BackendName[] } = {}): Promise<BackendChoice> {
  const forced = process.env.S4_BACKEND;
  if (forced) {
    const name = parseName(forced, "S4_BACKEND");
    try {
      const tfName = await activate(name, true);
      return announce({ name, tfName, reason: "S4_BACKEND" }, opts.quiet ?? false);
    } catch (e) {
      throw new Error(`S4_BACKEND=${name} is not available here: ${shortError(e)}`);
    }
  }
  const skipped: string[] = [];
  for (const name of opts.order ?? BACKEND_ORDER) {
    try {
      const tfName = await activate(name, false);
      const reason = skipped.length ? `first that works; skipped ${skipped.join("; ")}` : "first choice";
      return announce({ name, tfName, reason }, opts.quiet ?? false);
    } catch (e) {
      skipped.push(`${name}: ${shortError(e)}`);
    }
  }
  throw new Error(`chooseBackend: no backend works: ${skipped.join("; ")}`);
}

/** The active choice, or null before `chooseBackend`/`useBackend`. */
export function currentBackend(): BackendChoice | null {
  return current;
}

/** Lists which backends work here, without leaving any but the current one active. */
export async function availableBackends(): Promise<{ name: BackendName; ok: boolean; detail: string }[]> {
  const before = tf.getBackend();
  const out: { name: BackendName; ok: boolean; detail: string }[] = [];
  for (const name of BACKEND_ORDER) {
    try {
      out.push({ name, ok: true, detail: await activate(name, true) });
    } catch (e) {
      out.push({ name, ok: false, detail: shortError(e) });
    }
  }
  if (before) await tf.setBackend(before);
  return out;
}
