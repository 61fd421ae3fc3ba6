/**
 * The selective scan's WebGPU kernels: "SelectiveScan" and its gradient "SelectiveScanGrad" run
 * the chunked, parallel-in-time programs (webgpu-chunked.ts) unless attr `scan` is
 * "sequential", which runs the sequential reference twin (webgpu-sequential.ts).
 */
import { registerKernelConfig } from "../registry";
import { SCAN_GRAD_INPUTS, SCAN_GRAD_KERNEL, SCAN_INPUTS, SCAN_KERNEL } from "./names";
import { bind, programRunner, WebGPUBackendLike } from "./webgpu-common";
import { chunkedBackward, chunkedForward } from "./webgpu-chunked";
import { sequentialBackward, sequentialForward } from "./webgpu-sequential";

export { WEBGPU_MAX_STATES } from "./webgpu-common";

const sequential = (attrs: Record<string, unknown>) => attrs.scan === "sequential";

registerKernelConfig({
  kernelName: SCAN_KERNEL,
  backendName: "webgpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = (attrs ?? {}) as Record<string, unknown>;
    const { named, b, d, l, n, uniforms } = bind(SCAN_KERNEL, SCAN_INPUTS, inputs, a);
    const r = programRunner(backend as unknown as WebGPUBackendLike, named, uniforms);
    return sequential(a) ? sequentialForward(r, { b, d, l, n }) : chunkedForward(r, { b, d, l, n });
  },
});

registerKernelConfig({
  kernelName: SCAN_GRAD_KERNEL,
  backendName: "webgpu",
  kernelFunc: ({ inputs, backend, attrs }) => {
    const a = (attrs ?? {}) as Record<string, unknown>;
    const be = backend as unknown as WebGPUBackendLike;
    const { named, b, d, l, n, uniforms } = bind(SCAN_GRAD_KERNEL, SCAN_GRAD_INPUTS, inputs, a);
    const r = programRunner(be, named, uniforms);
    const dims = { b, d, l, n, gate: a.hasZ === true };
    return sequential(a) ? sequentialBackward(r, be, named, dims) : chunkedBackward(r, be, named, dims);
  },
});
