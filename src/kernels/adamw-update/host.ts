/**
 * The fused AdamW update on the host (cpu and wasm): one pass over the elements writing both
 * outputs, in chunks that threads share. The new parameter is computed from the moments as
 * stored (rounded to float32), as the WebGPU kernel does when its second program reads them back.
 */
import { Attrs, HostKernelSpec, elementUnits, sizeOf, unitElements } from "../host-kernel";
import { KERNEL, SCALED_KERNEL, skipsUpdate } from "./names";

/** Elements [from, to) of p (n), g (n), mv (2, n) → pOut (n), mvOut (2, n). */
function update(ins: Float32Array[], [pOut, mvOut]: Float32Array[], attrs: Attrs, from: number, to: number): void {
  const [pv, gv, mvv, scale] = ins;
  const n = pv.length,
    s = scale ? scale[0] : 1;
  if (skipsUpdate(s)) {
    pOut.set(pv.subarray(from, to), from);
    mvOut.set(mvv.subarray(from, to), from);
    mvOut.set(mvv.subarray(n + from, n + to), n + from);
    return;
  }
  const lr = attrs.lr as number,
    b1 = attrs.beta1 as number,
    b2 = attrs.beta2 as number;
  const eps = attrs.eps as number,
    wd = attrs.weightDecay as number,
    bc1 = attrs.bc1 as number;
  const omb1 = 1 - b1,
    omb2 = 1 - b2,
    sqrtBc2 = Math.sqrt(attrs.bc2 as number);
  for (let i = from; i < to; i++) {
    const gi = gv[i] * s;
    mvOut[i] = b1 * mvv[i] + omb1 * gi;
    mvOut[n + i] = b2 * mvv[n + i] + omb2 * gi * gi;
    const adam = mvOut[i] / bc1 / (Math.sqrt(mvOut[n + i]) / sqrtBc2 + eps);
    pOut[i] = pv[i] - lr * (adam + wd * pv[i]);
  }
}

function spec(name: string, inputs: readonly string[]): HostKernelSpec {
  return {
    name,
    inputs,
    plan: ([p, , mv]) => ({ outputs: [p, mv], phases: [elementUnits(sizeOf(p))] }),
    run: (_phase, b, from, to) => update(b.ins, b.outs, b.attrs, ...unitElements(from, to, b.ins[0].length)),
  };
}

export const ADAMW_HOST = spec(KERNEL, ["p", "g", "mv"]);
export const ADAMW_SCALED_HOST = spec(SCALED_KERNEL, ["p", "g", "mv", "scale"]);
