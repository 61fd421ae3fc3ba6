// The name of this op's tfjs kernel: x (any shape) → Σ x², a scalar.
export const KERNEL = "SumOfSquares";
