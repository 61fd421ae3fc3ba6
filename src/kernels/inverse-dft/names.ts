// The names of this op's tfjs kernels, and what they take and give.
/** Forward kernel: inputs {re, im} → y (same shape). */
export const KERNEL = "InverseRealDFT";
/**
 * Backward kernel: input {dy} (..., L) → (2, ..., L), d re and d im stacked on a new first axis
 * (one output, so a GPU pass computes both at once).
 */
export const GRAD_KERNEL = "InverseRealDFTGrad";
