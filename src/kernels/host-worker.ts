/**
 * A worker thread of host-threads.ts: runs the ranges of host kernels posted to it, in the shared
 * arena, and reports each one done (or failed, with the message on its error port).
 */
import { MessagePort, parentPort, workerData } from "node:worker_threads";
import { HOST_KERNEL_SPECS } from "./host-specs";
import { Job, reportDone, viewsOf } from "./host-threads";

const ctrl = new Int32Array(workerData.ctrl as SharedArrayBuffer);
const errors = workerData.errors as MessagePort;
const specs = new Map(HOST_KERNEL_SPECS.map((s) => [s.name, s]));

parentPort!.on("message", (job: Job) => {
  let failed = false;
  try {
    const spec = specs.get(job.kernel);
    if (!spec) throw new Error(`unknown host kernel "${job.kernel}"`);
    spec.run(job.phase, viewsOf(job.arena, job.layout, job.shapes, job.attrs), job.from, job.to);
  } catch (e) {
    failed = true;
    errors.postMessage(e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e));
  }
  reportDone(ctrl, failed);
});
