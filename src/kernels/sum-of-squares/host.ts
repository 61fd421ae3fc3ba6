/** The sum of squares on the host (cpu and wasm), accumulated in float64. */
import { HostInput, HostOutput, registerHostKernel } from "../registry";
import { KERNEL } from "./spec";

function sumOfSquares([x]: HostInput[]): HostOutput {
  const v = x.values;
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  return { values: Float32Array.of(sum), shape: [] };
}

registerHostKernel(KERNEL, ["x"], sumOfSquares);
