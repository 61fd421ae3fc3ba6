/** Whether the active backend keeps tensors in host memory (cpu, wasm); free of Node.js imports
 * so that the math can use it in a browser bundle. */
import * as tf from "@tensorflow/tfjs";

/**
 * True on the cpu and wasm backends, where reading tensors back synchronously is free and
 * typed-array kernels run; GPU backends get the pure tf-ops paths instead.
 */
export function hostBackend(): boolean {
  const name = tf.getBackend();
  return name === "cpu" || name === "wasm";
}
