// The names of this op's tfjs kernels, and what they take and give.
/** Forward kernel: inputs {u, k} → y (shape of u). */
export const KERNEL = "CausalConv";
/** Backward kernel: inputs {dy, u, k} → [du (shape of u), dk (shape of k)]. */
export const GRAD_KERNEL = "CausalConvGrad";
/**
 * Host forward kernel for the gradient: inputs {u, k} → [y (shape of u), the packed spectra of u
 * (⌈rows/2⌉, 2, m)], which the backward kernel below reads instead of transforming u again.
 */
export const SPECTRUM_KERNEL = "CausalConvWithSpectrum";
/** Host backward kernel: inputs {dy, spectrum, k} → [du (shape of dy), dk (shape of k)]. */
export const SPECTRUM_GRAD_KERNEL = "CausalConvGradFromSpectrum";
