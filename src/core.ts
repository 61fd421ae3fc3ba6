/**
 * The part of the library that needs no Node.js: the walkthroughs' mathematics, the kernels, the
 * Mamba scans and the modules. Nothing here imports a Node.js module when it loads (the host
 * kernels reach for worker threads only after checking they run in Node.js), so a browser bundle
 * can use it; test/browser-core.test.js bundles it with esbuild and runs it in Chromium.
 * The package's main entry (index.ts) adds backend selection, data, training, plots and files.
 */
export * from "./host-backend";
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
export * from "./nn";
export * from "./sample";
export * from "./random";
