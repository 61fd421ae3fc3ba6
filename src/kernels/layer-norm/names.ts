// The names of layer normalization's tfjs kernels (see spec.ts).
/** Forward kernel: inputs {x, scale, bias} → y (shape of x); attribute `eps`. */
export const KERNEL = "LayerNorm";
/** Backward kernel: inputs {dy, x, scale} → [dx (..., h), dscale (h), dbias (h)]; attribute `eps`. */
export const GRAD_KERNEL = "LayerNormGrad";
