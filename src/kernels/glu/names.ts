// The names of the gated linear unit's tfjs kernels (see spec.ts).
/** Forward kernel: inputs {x} → y (..., h); attribute `half` = h. */
export const KERNEL = "GatedLinearUnit";
/** Backward kernel: inputs {dy, x} → dx (..., 2h); attribute `half` = h. */
export const GRAD_KERNEL = "GatedLinearUnitGrad";
