/**
 * GELU (tanh form) on the host (cpu and wasm), in float64 per element; the threads share the
 * elements in chunks of fixed size.
 *
 * 1 + tanh(u) = 2σ(2u), so with e = e^{−2u} and s = 1/(1 + e):
 *   y  = x · s
 *   y′ = s + 2x · e·s² · √(2/π)(1 + 3·0.044715x²)      (since 1 − t² = 4s(1 − s) and 1 − s = e·s)
 * one table exp (exp-wide.ts) and one division per element instead of Math.tanh (an out-of-line
 * call in V8), and no cancellation: 1 − s is never formed by a subtraction.
 */
import { HostKernelSpec, elementUnits, sizeOf, unitElements } from "../host-kernel";
import { expWide } from "./exp-wide";
import { GELU_CUBIC, GELU_SCALE, GRAD_KERNEL, KERNEL } from "./names";

// −2u = x·(A + B·x²), and 2√(2/π)(1 + 3·0.044715x²) = C + D·x²
const A = -2 * GELU_SCALE,
  B = -2 * GELU_SCALE * GELU_CUBIC;
const C = 2 * GELU_SCALE,
  D = 6 * GELU_SCALE * GELU_CUBIC;

/** x (n) → y (n): the units [from, to). */
function forward(x: Float32Array, y: Float32Array, from: number, to: number): void {
  const [start, end] = unitElements(from, to, x.length);
  for (let i = start; i < end; i++) {
    const v = x[i];
    y[i] = v / (1 + expWide(v * (A + B * v * v)));
  }
}

/** dy, x (n) → dx = dy·y′ (n): the units [from, to). */
function backward(dy: Float32Array, x: Float32Array, dx: Float32Array, from: number, to: number): void {
  const [start, end] = unitElements(from, to, x.length);
  for (let i = start; i < end; i++) {
    const v = x[i],
      v2 = v * v;
    const e = expWide(v * (A + B * v2)),
      s = 1 / (1 + e);
    // e·s = 1 − s first: e alone may be near float64's largest number, and x·e would overflow
    dx[i] = dy[i] * (s + v * (e * s) * s * (C + D * v2));
  }
}

const chunks = (shape: number[]) => elementUnits(sizeOf(shape));

export const GELU_HOST: HostKernelSpec = {
  name: KERNEL,
  inputs: ["x"],
  plan: ([shape]) => ({ outputs: [shape], phases: [chunks(shape)] }),
  run: (_phase, b, from, to) => forward(b.ins[0], b.outs[0], from, to),
};

export const GELU_GRAD_HOST: HostKernelSpec = {
  name: GRAD_KERNEL,
  inputs: ["dy", "x"],
  plan: ([, shape]) => ({ outputs: [shape], phases: [chunks(shape)] }),
  run: (_phase, b, from, to) => backward(b.ins[0], b.ins[1], b.outs[0], from, to),
};
