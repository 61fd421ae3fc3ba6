// The names of this op's tfjs kernels, and the rule for a skipped update that every implementation follows.
/** Inputs {p, g, mv} → [pNew, mvNew]. */
export const KERNEL = "AdamWUpdate";
/** Inputs {p, g, mv, scale} → [pNew, mvNew], with g scaled (or the update skipped: skipsUpdate, and spec.ts). */
export const SCALED_KERNEL = "AdamWUpdateScaled";

/** True when `scale` asks to skip the update: ≤ 0, NaN or infinite. */
export function skipsUpdate(scale: number): boolean {
  return !(scale > 0 && scale < Infinity);
}
