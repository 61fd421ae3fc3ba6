/** s4-mamba-in-depth: structured state space models (S4, S4D, Mamba) on TensorFlow.js. */
export * from "./backend";
export * from "./checks";
export * as cx from "./complex";
export type { CTensor } from "./complex";
export * as mamba from "./mamba";
export * from "./linalg";
export * from "./fft";
export * from "./ssm";
export * from "./hippo";
export * from "./s4";
export * from "./s4d";
export * from "./dft-matmul";
export * from "./kernels/depthwise-conv1d";
export * from "./kernels/dropout";
export * from "./fixtures";
export * from "./kernels/selective-scan";
export * from "./kernels/cauchy";
export * from "./kernels/dplr-spectrum";
export * from "./kernels/causal-conv";
export * from "./kernels/adamw-update";
export * from "./kernels/sum-of-squares";
export * from "./kernels/inverse-dft";
export * from "./kernels/gelu";
export * from "./kernels/glu";
export * from "./kernels/layer-norm";
/** The registry a hand-written kernel joins tfjs through (used by the mamba_in_depth notebook). */
export * as kernels from "./kernels/registry";
export * from "./data";
export * from "./train";
export * from "./nn";
export * from "./sample";
export * from "./image/png";
export * from "./random";
export * as viz from "./viz";
/** Helpers of the notebooks: size tiers, printed checks, timing, text tables. */
export * as nb from "./notebook";
