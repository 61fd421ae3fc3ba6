/** s4-mamba-in-depth: structured state space models (S4, S4D, Mamba) on TensorFlow.js. */
// The Node.js-free core (math, kernels, Mamba scans, modules), usable in a browser bundle.
export * from "./core";
// What needs Node.js: backend selection, golden-value fixtures, data, training, PNG files, plots.
export * from "./backend";
export * from "./fixtures";
export * from "./data";
export * from "./train";
export * from "./image/png";
export * as viz from "./viz";
/** Helpers of the notebooks: size tiers, printed checks, timing, text tables. */
export * as nb from "./notebook";
