/**
 * The Cauchy sums at the heart of the S4 kernel, as one op with a hand-written backward:
 *
 *   S[h, m, l] = Σ_n v[h, m, n] · 2 / ((2/Δ_h)(1 − z_l) − λ[h, n](1 + z_l)),
 *
 * i.e. Σ_n v_n·c(z)/(g(z) − λ_n) with the bilinear map g(z) = (2/Δ)(1 − z)/(1 + z) and
 * c(z) = 2/(1 + z) folded in, so the point z = −1 is not a pole (see kGenDPLR in s4.ts).
 * lambda: (H, N), v: (H, M, N) complex; step: (H) real; z: (L) complex → S: (H, M, L) complex.
 */
import * as tf from "@tensorflow/tfjs";
import { CTensor } from "../../complex";
import { hasKernel, registerHostKernelSpec, runKernel } from "../registry";
import { CAUCHY, CAUCHY_GRAD, CAUCHY_GRAD_HOST, CAUCHY_HOST } from "./host";
import "./webgpu";
import { cauchyBilinearReference } from "./reference";
import { formatShape } from "../../shape-format";

export { cauchyBilinearReference } from "./reference";

registerHostKernelSpec(CAUCHY_HOST);
registerHostKernelSpec(CAUCHY_GRAD_HOST);

function sameShape(fn: string, name: string, t: CTensor, shape: number[]): void {
  for (const part of ["re", "im"] as const) {
    if (t[part].shape.join() !== shape.join()) {
      throw new Error(`${fn}: ${name}.${part} must have shape ${formatShape(shape)}, got ${formatShape(t[part].shape)}`);
    }
  }
}

export function cauchyBilinear(lambda: CTensor, v: CTensor, step: tf.Tensor, z: CTensor): CTensor {
  const fn = "cauchyBilinear";
  if (lambda.re.rank !== 2) throw new Error(`${fn}: lambda must have shape (H, N), got ${formatShape(lambda.re.shape)}`);
  const [H, N] = lambda.re.shape;
  sameShape(fn, "lambda", lambda, [H, N]);
  if (v.re.rank !== 3 || v.re.shape[0] !== H || v.re.shape[2] !== N) {
    throw new Error(`${fn}: v must have shape (H, M, N) = (${H}, M, ${N}), got ${formatShape(v.re.shape)}`);
  }
  sameShape(fn, "v", v, v.re.shape);
  if (step.shape.join() !== String(H)) throw new Error(`${fn}: step must have shape (${H}), got ${formatShape(step.shape)}`);
  if (z.re.rank !== 1) throw new Error(`${fn}: z must have shape (L), got ${formatShape(z.re.shape)}`);
  sameShape(fn, "z", z, z.re.shape);
  if (!hasKernel(CAUCHY)) return cauchyBilinearReference(lambda, v, step, z);
  return tf.tidy(() => {
    const pair = (t: CTensor) => tf.stack([t.re, t.im], -1); // complex → (..., 2)
    const S = runKernel(CAUCHY, { lambda: pair(lambda), v: pair(v), step, z: pair(z) }) as tf.Tensor; // (2, H, M, L)
    const [re, im] = tf.unstack(S, 0);
    return { re, im };
  });
}

tf.registerGradient({
  kernelName: CAUCHY,
  inputsToSave: ["lambda", "v", "step", "z"],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [lambda, v, step, z] = saved;
    // One backward kernel call serves every input. It runs here, not inside the closures: tfjs
    // calls each closure in its own tidy scope, which would free the other outputs.
    const [gLambda, gV, gStep] = runKernel(CAUCHY_GRAD, { lambda, v, step, z, g: dy as tf.Tensor }) as tf.Tensor[];
    return { lambda: () => gLambda, v: () => gV, step: () => gStep, z: () => tf.zerosLike(z) };
  },
});
