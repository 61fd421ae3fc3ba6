/**
 * The sum of squares on the host (cpu and wasm), accumulated in float64 in one pass: one unit, on
 * the calling thread, so that the order of the sum (and the result) never depends on threads.
 * It runs on parameter and gradient tensors, whose sizes are far too small to gain from threads.
 */
import { HostKernelSpec } from "../host-kernel";
import { KERNEL } from "./names";

export const SUM_OF_SQUARES_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x"],
  plan: () => ({ outputs: [[]], phases: [1] }),
  run: (_phase, b) => {
    const v = b.ins[0];
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
    b.outs[0][0] = sum;
  },
};
