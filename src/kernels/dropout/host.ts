/** Seeded dropout on the host (cpu and wasm): one pass computing the mask as it goes. */
import { HostInput, HostOutput, Attrs, registerHostKernel } from "../registry";
import { KERNEL, pcgHash } from "./spec";

function run([x]: HostInput[], attrs: Attrs): HostOutput {
  const s = attrs.seed as number, threshold = (attrs.threshold as number) >>> 0;
  const scale = new Float32Array(new Int32Array([attrs.scaleBits as number]).buffer)[0];
  const xv = x.values, y = new Float32Array(xv.length);
  for (let i = 0; i < xv.length; i++) y[i] = pcgHash((pcgHash(i) ^ s) >>> 0) < threshold ? xv[i] * scale : 0;
  return { values: y, shape: x.shape };
}

registerHostKernel(KERNEL, ["x"], run);
