// The names of this op's tfjs kernels, and what they take and give.
/** Forward kernel: inputs {u, k} → y (shape of u). */
export const KERNEL = "CausalConv";
/** Backward kernel: inputs {dy, u, k} → [du (shape of u), dk (shape of k)]. */
export const GRAD_KERNEL = "CausalConvGrad";
