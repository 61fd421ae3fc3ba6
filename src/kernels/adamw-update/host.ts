/**
 * The fused AdamW update on the host (cpu and wasm): one pass over the elements writing both
 * outputs. The new parameter is computed from the moments as stored (rounded to float32), as the
 * WebGPU kernel does when its second program reads them back.
 */
import { Attrs, HostInput, HostOutput, registerHostKernel } from "../registry";
import { KERNEL, SCALED_KERNEL, skipsUpdate } from "./spec";

function update([p, g, mv, scale]: HostInput[], attrs: Attrs): HostOutput[] {
  const s = scale ? scale.values[0] : 1;
  if (skipsUpdate(s)) return [{ values: p.values.slice(), shape: p.shape }, { values: mv.values.slice(), shape: mv.shape }];
  const lr = attrs.lr as number, b1 = attrs.beta1 as number, b2 = attrs.beta2 as number;
  const eps = attrs.eps as number, wd = attrs.weightDecay as number, bc1 = attrs.bc1 as number;
  const omb1 = 1 - b1, omb2 = 1 - b2, sqrtBc2 = Math.sqrt(attrs.bc2 as number);
  const pv = p.values, gv = g.values, mvv = mv.values, n = pv.length;
  const pOut = new Float32Array(n), mvOut = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const gi = gv[i] * s;
    mvOut[i] = b1 * mvv[i] + omb1 * gi;
    mvOut[n + i] = b2 * mvv[n + i] + omb2 * gi * gi;
    const adam = mvOut[i] / bc1 / (Math.sqrt(mvOut[n + i]) / sqrtBc2 + eps);
    pOut[i] = pv[i] - lr * (adam + wd * pv[i]);
  }
  return [{ values: pOut, shape: p.shape }, { values: mvOut, shape: mv.shape }];
}

registerHostKernel(KERNEL, ["p", "g", "mv"], update);
registerHostKernel(SCALED_KERNEL, ["p", "g", "mv", "scale"], update);
