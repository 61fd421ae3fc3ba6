/** MNIST data: IDX parsing, the two MNIST tasks of The Annotated S4, and seeded batch orders. */
export * from "./idx";
export * from "./mnist";
export * from "./tasks";
export * from "./batches";
