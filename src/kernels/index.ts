/**
 * The hand-written kernels, each a tfjs op with its gradient: a fused WebGPU program, a typed-array
 * host loop for cpu and wasm, and a reference built from tf ops that the tests hold it to. Beside
 * them, the registry a new kernel joins tfjs through (the mamba_in_depth notebook writes its own).
 */
export * from "./registry";
export {
  selectiveScan,
  selectiveScanReference,
  type ScanMethod,
  type SelectiveScanOptions,
  type SelectiveScanResult,
} from "./selective-scan";
export { causalConv, causalConvReference, directCausalConv } from "./causal-conv";
export { causalDepthwiseConv1d, causalDepthwiseConv1dReference } from "./depthwise-conv1d";
export { cauchyBilinear, cauchyBilinearReference } from "./cauchy";
export { dplrSpectrum, hasDPLRSpectrumKernels } from "./dplr-spectrum";
export { irdft } from "./inverse-dft";
/** The zero-padded DFT written as matmuls: the reference the FFT kernels are timed against. */
export { matmulCausalConv, matmulIrdft } from "../dft-matmul";
export { gelu, geluReference } from "./gelu";
export { glu, gluReference } from "./glu";
export { layerNorm, layerNormReference } from "./layer-norm";
export { seededDropout, seededDropoutReference, dropoutMaskValues } from "./dropout";
export { adamwUpdate, adamwUpdateReference, hasFusedAdamW, type AdamWUpdateAttrs } from "./adamw-update";
export { sumOfSquares, sumOfSquaresReference } from "./sum-of-squares";
