/**
 * The S4 kernel's generating function at the points z, for the S4 case Q = P, as three fused
 * kernels: the Woodbury weights, the Cauchy sums, and the Woodbury combination (see spec.ts and
 * kGenDPLR in s4.ts, whose tf-ops form is the reference). Each has a hand-written backward, so one
 * S4 kernel costs a handful of kernel launches forward and backward instead of hundreds.
 */
import * as tf from "@tensorflow/tfjs";
import { CTensor } from "../../complex";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { CAUCHY } from "../cauchy/host";
import "../cauchy";
import { WEIGHTS, WEIGHTS_GRAD, WEIGHT_INPUTS, WOODBURY, WOODBURY_GRAD } from "./spec";
import { WEIGHTS_GRAD_HOST, WEIGHTS_HOST, WOODBURY_GRAD_HOST, WOODBURY_HOST } from "./host";
import "./webgpu";
import { formatShape } from "../../shape-format";

for (const spec of [WEIGHTS_HOST, WEIGHTS_GRAD_HOST, WOODBURY_HOST, WOODBURY_GRAD_HOST]) registerHostKernelSpec(spec);

tf.registerGradient({
  kernelName: WEIGHTS,
  inputsToSave: [...WEIGHT_INPUTS],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    // One backward call gives all six planes; it runs here because tfjs runs each closure in its
    // own tidy scope, which would free the other outputs.
    const inputs: Record<string, tf.Tensor> = { g: dy as tf.Tensor };
    WEIGHT_INPUTS.forEach((name, i) => (inputs[name] = saved[i]));
    const grads = runKernel(WEIGHTS_GRAD, inputs) as tf.Tensor[];
    return Object.fromEntries(WEIGHT_INPUTS.map((name, i) => [name, () => grads[i]]));
  },
});

tf.registerGradient({
  kernelName: WOODBURY,
  inputsToSave: ["s", "z"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [s, z] = saved;
    const gs = runKernel(WOODBURY_GRAD, { s, z, g: dy as tf.Tensor }) as tf.Tensor;
    return { s: () => gs, z: () => tf.zerosLike(z) };
  },
});

/** True when the fused path runs on the active backend. */
export function hasDPLRSpectrumKernels(): boolean {
  return [WEIGHTS, WEIGHTS_GRAD, WOODBURY, WOODBURY_GRAD, CAUCHY].every(hasKernel);
}

/**
 * K̂(z) of H DPLR SSMs with Q = P: lambda (H, N, 2) interleaved, the (H, N) planes of P, B and C̃,
 * step (H) and z (L, 2) interleaved → K̂ (2, H, L), real plane then imaginary plane.
 * Differentiable in everything but z. Needs hasDPLRSpectrumKernels().
 */
export function dplrSpectrum(lambda: tf.Tensor, P: CTensor, B: CTensor, C: CTensor, step: tf.Tensor, z: tf.Tensor): tf.Tensor {
  if (!hasDPLRSpectrumKernels()) throw new Error(`dplrSpectrum: no fused kernels on the ${tf.getBackend()} backend; use kGenDPLR`);
  const [H, N] = lambda.shape;
  if (lambda.rank !== 3 || lambda.shape[2] !== 2)
    throw new Error(`dplrSpectrum: lambda must have shape (H, N, 2), got ${formatShape(lambda.shape)}`);
  for (const [name, t] of [
    ["P", P],
    ["B", B],
    ["C", C],
  ] as const) {
    for (const part of ["re", "im"] as const) {
      if (t[part].shape.join() !== `${H},${N}`)
        throw new Error(`dplrSpectrum: ${name}.${part} must have shape (${H}, ${N}), got ${formatShape(t[part].shape)}`);
    }
  }
  if (step.shape.join() !== String(H)) throw new Error(`dplrSpectrum: step must have shape (${H}), got ${formatShape(step.shape)}`);
  if (z.rank !== 2 || z.shape[1] !== 2) throw new Error(`dplrSpectrum: z must have shape (L, 2), got ${formatShape(z.shape)}`);
  return tf.tidy(() => {
    const v = runKernel(WEIGHTS, { cRe: C.re, cIm: C.im, bRe: B.re, bIm: B.im, pRe: P.re, pIm: P.im }) as tf.Tensor; // (H, 4, N, 2)
    const s = runKernel(CAUCHY, { lambda, v, step, z }) as tf.Tensor; // (2, H, 4, L)
    return runKernel(WOODBURY, { s, z }) as tf.Tensor; // (2, H, L)
  });
}
