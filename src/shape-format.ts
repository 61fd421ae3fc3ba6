/** How error messages write a shape: (2, 3, 784). Imports nothing, so that host kernel specs,
 * which worker threads load without TensorFlow.js, can use it. */
export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(", ")})`;
}
