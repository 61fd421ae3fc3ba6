// The names of the selective scan's tfjs kernels, and the order of their inputs.
/** Forward kernel: outputs y (b, d, l) and the last state (b, d, n). */
export const SCAN_KERNEL = "SelectiveScan";
/** Backward kernel: the gradients of every input of the forward, in the order of SCAN_INPUTS. */
export const SCAN_GRAD_KERNEL = "SelectiveScanGrad";

/** Inputs of the forward kernel, in order; absent D and deltaBias come as zeros (d), absent z as a
 * one-element placeholder with attr hasZ = false. */
export const SCAN_INPUTS = ["u", "delta", "A", "B", "C", "D", "z", "deltaBias"] as const;
/** The gradient kernel takes the forward inputs plus the output gradients dy (b, d, l) and
 * dLast (b, d, n). */
export const SCAN_GRAD_INPUTS = [...SCAN_INPUTS, "dy", "dLast"] as const;
