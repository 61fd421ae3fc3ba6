// The names of GELU's tfjs kernels and the constants of its tanh form (see spec.ts).
/** Forward kernel: inputs {x} → y (shape of x). */
export const KERNEL = "GeluTanh";
/** Backward kernel: inputs {dy, x} → dx (shape of x). */
export const GRAD_KERNEL = "GeluTanhGrad";

/** √(2/π), the scale inside the tanh. */
export const GELU_SCALE = Math.sqrt(2 / Math.PI);
/** The coefficient of x³ inside the tanh. */
export const GELU_CUBIC = 0.044715;
