/**
 * The part of the library that needs no Node.js: the walkthroughs' mathematics, the kernels, the
 * Mamba scans and the modules. Nothing here imports a Node.js module when it loads (the host
 * kernels reach for worker threads only after checking they run in Node.js), so a browser bundle
 * can use it; test/browser-core.test.js bundles it with esbuild and runs it in Chromium.
 * The package's main entry (index.ts) adds backend selection, data, training, plots and files.
 *
 * The walkthroughs' math sits at the top level under its walkthrough names (The Annotated S4:
 * ssm.ts, hippo.ts, s4.ts, s4d.ts); everything else is in a namespace named after its folder.
 */
export * from "./ssm";
export * from "./hippo";
export * from "./s4";
export * from "./s4d";
/** The plain O(L²) DFT the notebooks check the FFT paths against. */
export { dft } from "./fft";
export { mulberry32, seededNormal } from "./random";
/** Complex tensors as {re, im} pairs of float32 tensors. */
export * as cx from "./complex";
/** Small float64 complex linear algebra on the host (the walkthroughs' HiPPO and DPLR algebra). */
export * as linalg from "./linalg";
/** Mamba: The Hard Way, step by step: cumulative sums, linear scans, the selective SSM. */
export * as mamba from "./mamba";
export * as kernels from "./kernels";
export * as nn from "./nn";
/** Autoregressive digit completion and sampling with a model's RNN mode. */
export * as sample from "./sample";
