// The names of this op's tfjs kernels, and what they take and give.
/** Forward kernel: inputs {x, w, bias} → y (b, d, l). */
export const KERNEL = "CausalDepthwiseConv1d";
/** Backward kernel: inputs {dy, x, w} → [dx (b, d, l), dw (d, k), dbias (d)]. */
export const GRAD_KERNEL = "CausalDepthwiseConv1dGrad";
