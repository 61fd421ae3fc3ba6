/**
 * Where and when a run happened, for its record: the commit of the code, the backend and the
 * device it ran on, the Node.js and TensorFlow.js versions, and the start and end times. Every
 * published number comes with one of these.
 */
import * as tf from "@tensorflow/tfjs";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { currentBackend } from "../backend";
import { hostThreads, hostThreadsUnavailable } from "../kernels/host-threads";

export interface RunInfo {
  /** `git rev-parse HEAD` of the library's checkout, or null outside a git checkout. */
  commit: string | null;
  /** True when tracked files differed from that commit while the run started. */
  dirty: boolean | null;
  backend: string;
  /** The processor (cpu, wasm and tfjs-node) or the GPU adapter (WebGPU) that ran the math. */
  device: string;
  /** Threads of the hand-written host kernels (cpu, wasm): S4_THREADS or every core; 1 where workers are unavailable. */
  host_threads: number;
  node: string;
  tfjs: string;
  started_at: string;
  finished_at?: string;
}

function git(args: string[]): string | null {
  try {
    const root = path.resolve(__dirname, "..", "..");
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** The WebGPU adapter's description, when the webgpu backend is active. */
async function webgpuAdapter(): Promise<string | null> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return null;
  const adapter = (await gpu.requestAdapter()) as { info?: Record<string, string> } | null;
  const info = adapter?.info ?? {};
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
  return text || "unknown WebGPU adapter";
}

/** What ran the math: the GPU adapter on WebGPU, else the processor model and core count. */
export async function deviceDescription(): Promise<string> {
  const backend = tf.getBackend();
  if (backend === "webgpu") return `WebGPU: ${await webgpuAdapter()}`;
  const cpus = os.cpus();
  const cpu = `${cpus[0]?.model?.trim() || "unknown CPU"}, ${cpus.length} cores`;
  return backend === "tensorflow" ? `libtensorflow (tfjs-node) on ${cpu} and any CUDA GPU it found` : cpu;
}

/** The record of the run that starts now. */
export async function runInfo(): Promise<RunInfo> {
  const commit = git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    commit,
    dirty: status === null ? null : status.length > 0,
    backend: currentBackend()?.name ?? tf.getBackend(),
    device: await deviceDescription(),
    host_threads: hostThreadsUnavailable() === null ? hostThreads() : 1,
    node: process.version,
    tfjs: tf.version_core,
    started_at: new Date().toISOString(),
  };
}
