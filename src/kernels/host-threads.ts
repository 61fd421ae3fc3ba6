/**
 * Runs host kernels (host-kernel.ts) on all cores: the calling thread takes the first range of
 * units of each phase, worker threads the others, and the caller blocks (Atomics.wait) until they
 * are done, since a tfjs kernel must return synchronously.
 *
 * How memory is shared: each call copies its inputs once into one SharedArrayBuffer arena, reused
 * and grown across calls, where the threads also write the outputs and the scratch; the outputs
 * are copied once into the backend's tensors at the end. The wasm heap itself cannot be shared
 * (tfjs loads the single-threaded wasm build in Node, whose memory is a plain ArrayBuffer), so
 * one copy in and one out is the least a thread can see; it is also what tfjs's own readSync
 * (a copy) and makeOutput (a copy) cost before. The alternative, posting inputs to every worker
 * (structured clone), copies each input once per worker and call: at the S4 layer's sizes
 * (u: 16 × 64 × 784 floats, 3.2 MB) it took 1.7 to 3.9 ms per worker and call against 0.2 to
 * 0.3 ms for the arena copy and a post (medians of 30, this 2-core machine under load), and it
 * grows with the thread count while the arena copy does not.
 *
 * On one thread nothing is copied: the kernel reads the backend's memory and writes its outputs
 * in place (see registry.ts).
 *
 * Threads: S4_THREADS=n in the environment, else every core (os.availableParallelism());
 * setHostThreads(n) changes it at run time. Where worker threads are unavailable (a browser, a
 * bundle without the worker file) kernels run on the calling thread.
 */
import type { Worker as NodeWorker } from "node:worker_threads";
import { HostKernelBuffers, HostKernelPlan, HostKernelSpec, sizeOf, splitRange } from "./host-kernel";

/** A thread count this module accepts: a whole number from 1 to 256. */
const isThreadCount = (n: number) => Number.isInteger(n) && n >= 1 && n <= 256;

/** The environment's thread count: S4_THREADS, else the number of cores. */
export function threadsFromEnv(env: Record<string, string | undefined>, cores: number): number {
  const value = env.S4_THREADS;
  if (value === undefined || value === "") return Math.max(1, cores);
  const n = Number(value);
  if (!isThreadCount(n)) throw new Error(`S4_THREADS must be a whole number of threads from 1 to 256, got ${JSON.stringify(value)}`);
  return n;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;

function coreCount(): number {
  if (!isNode) return 1;
  const os = require("node:os") as typeof import("node:os");
  return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
}

let threads = threadsFromEnv(isNode ? process.env : {}, coreCount());

/** The number of threads host kernels use. */
export function hostThreads(): number {
  return threads;
}

/** Sets the number of threads host kernels use (1 = the calling thread only). */
export function setHostThreads(n: number): void {
  if (!isThreadCount(n)) throw new Error(`setHostThreads: n must be a whole number from 1 to 256, got ${n}`);
  threads = n;
}

// ---- Worker pool ----------------------------------------------------------------------------------

/** Control words shared with every worker: [finished ranges, failures]. */
const DONE = 0,
  FAILED = 1;

interface Pool {
  workers: { worker: NodeWorker; errors: import("node:worker_threads").MessagePort }[];
  ctrl: Int32Array;
}

let pool: Pool | null = null;

/** The worker script beside this file, or why there is none; looked up once. */
let workerScript: { file: string } | { unavailable: string } | null = null;

function findWorkerScript(): { file: string } | { unavailable: string } {
  if (!workerScript) {
    if (!isNode) workerScript = { unavailable: "not running in Node.js" };
    else {
      const fs = require("node:fs") as typeof import("node:fs");
      const path = require("node:path") as typeof import("node:path");
      const file = path.join(__dirname, "host-worker.js");
      workerScript = fs.existsSync(file) ? { file } : { unavailable: "the worker script host-worker.js is not beside host-threads.js" };
    }
  }
  return workerScript;
}

/** A pool with at least `n` workers, or null where worker threads are unavailable. */
function workersFor(n: number): Pool | null {
  const script = findWorkerScript();
  if ("unavailable" in script) return null;
  pool ??= { workers: [], ctrl: new Int32Array(new SharedArrayBuffer(8)) };
  const wt = require("node:worker_threads") as typeof import("node:worker_threads");
  while (pool.workers.length < n) {
    const { port1, port2 } = new wt.MessageChannel();
    const worker = new wt.Worker(script.file, { workerData: { ctrl: pool.ctrl.buffer, errors: port2 }, transferList: [port2] });
    worker.unref(); // idle workers never keep a process alive
    port1.unref();
    pool.workers.push({ worker, errors: port1 });
  }
  return pool;
}

/** Why kernels run on the calling thread only, or null when the worker pool is usable. */
export function hostThreadsUnavailable(): string | null {
  const script = findWorkerScript();
  return "unavailable" in script ? script.unavailable : null;
}

// ---- The shared arena ----------------------------------------------------------------------------

let arena: SharedArrayBuffer | null = null;

/** The arena, at least `bytes` long (a new, larger one replaces it: posting it to workers is free). */
function arenaOf(bytes: number): SharedArrayBuffer {
  if (!arena || arena.byteLength < bytes) arena = new SharedArrayBuffer(Math.max(bytes, 2 * (arena?.byteLength ?? 0), 1 << 20));
  return arena;
}

/** Where each buffer of a call lies in the arena: [byte offset, length in elements]. */
export interface ArenaLayout {
  ins: [number, number][];
  outs: [number, number][];
  scratch: [number, number][];
}

/** Views of the buffers of a call in `buffer`. */
export function viewsOf(
  buffer: ArrayBufferLike,
  layout: ArenaLayout,
  shapes: number[][],
  attrs: HostKernelBuffers["attrs"],
): HostKernelBuffers {
  return {
    ins: layout.ins.map(([at, n]) => new Float32Array(buffer, at, n)),
    outs: layout.outs.map(([at, n]) => new Float32Array(buffer, at, n)),
    scratch: layout.scratch.map(([at, n]) => new Float64Array(buffer, at, n)),
    shapes,
    attrs,
  };
}

/** One range of one phase, as posted to a worker. */
export interface Job {
  kernel: string;
  phase: number;
  from: number;
  to: number;
  arena: SharedArrayBuffer;
  layout: ArenaLayout;
  shapes: number[][];
  attrs: HostKernelBuffers["attrs"];
}

function runPhasesHere(spec: HostKernelSpec, plan: HostKernelPlan, b: HostKernelBuffers): void {
  plan.phases.forEach((units, phase) => {
    if (units > 0) spec.run(phase, b, 0, units);
  });
}

/**
 * Runs `spec` on `ins` and writes its outputs into `outs` (allocated by the caller with the
 * plan's output shapes). Uses the worker pool when more than one thread is set and the work
 * splits; otherwise runs on the calling thread, reading `ins` and writing `outs` in place.
 */
export function runHostKernel(
  spec: HostKernelSpec,
  plan: HostKernelPlan,
  ins: Float32Array[],
  shapes: number[][],
  attrs: HostKernelBuffers["attrs"],
  outs: Float32Array[],
): void {
  const widest = Math.max(0, ...plan.phases);
  const n = Math.min(threads, widest);
  const p = n > 1 ? workersFor(n - 1) : null;
  if (!p) {
    const scratch = (plan.scratch ?? []).map((len) => new Float64Array(len));
    runPhasesHere(spec, plan, { ins, outs, scratch, shapes, attrs });
    return;
  }
  // Lay the call out in the arena: float64 scratch first (8-byte aligned), then the float32 buffers.
  let at = 0;
  const place = (len: number, bytesPer: number): [number, number] => {
    const slot: [number, number] = [at, len];
    at += Math.ceil((len * bytesPer) / 8) * 8;
    return slot;
  };
  const layout: ArenaLayout = {
    scratch: (plan.scratch ?? []).map((len) => place(len, 8)),
    ins: ins.map((x) => place(x.length, 4)),
    outs: plan.outputs.map((s) => place(sizeOf(s), 4)),
  };
  const shared = arenaOf(at);
  const b = viewsOf(shared, layout, shapes, attrs);
  b.ins.forEach((view, i) => view.set(ins[i]));
  for (const s of b.scratch) s.fill(0);
  plan.phases.forEach((units, phase) => {
    const ranges = splitRange(units, n);
    const ctrl = p.ctrl;
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, FAILED, 0);
    for (let i = 1; i < ranges.length; i++) {
      const job: Job = { kernel: spec.name, phase, from: ranges[i][0], to: ranges[i][1], arena: shared, layout, shapes, attrs };
      p.workers[i - 1].worker.postMessage(job);
    }
    let mine: unknown = null;
    if (ranges.length > 0) {
      try {
        spec.run(phase, b, ranges[0][0], ranges[0][1]);
      } catch (e) {
        mine = e;
      }
    }
    const others = ranges.length - 1;
    for (let done = Atomics.load(ctrl, DONE); done < others; done = Atomics.load(ctrl, DONE)) Atomics.wait(ctrl, DONE, done);
    if (mine) throw mine;
    if (Atomics.load(ctrl, FAILED) > 0) {
      const wt = require("node:worker_threads") as typeof import("node:worker_threads");
      const why = p.workers.map((w) => wt.receiveMessageOnPort(w.errors)?.message).find((m) => m !== undefined);
      throw new Error(`${spec.name}: a worker thread failed: ${why ?? "no message"}`);
    }
  });
  b.outs.forEach((view, i) => outs[i].set(view));
}

/** Called by a worker when its range is done (or failed), waking the caller. */
export function reportDone(ctrl: Int32Array, failed: boolean): void {
  if (failed) Atomics.add(ctrl, FAILED, 1);
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
}
