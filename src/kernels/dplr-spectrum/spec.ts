/**
 * The two elementwise ends of the S4 kernel's generating function, around the Cauchy sums (see
 * kGenDPLR in s4.ts for the math):
 *
 * - weights: V (H, 4, N, 2) = [C̃̄·B, C̃̄·P, P̄·B, P̄·P] from the (H, N) planes of C̃, B and P
 *   (the S4 case Q = P), interleaved (re, im) as the Cauchy kernel takes them;
 * - Woodbury: K̂ = S₀ − S₁·a·S₂ / (1 + a·S₃) with a = (1 + z)/2, from the four Cauchy sums
 *   S (2, H, 4, L) (planar) and the points z (L, 2) → K̂ (2, H, L) (planar).
 *
 * Each is one kernel forward and one backward, instead of some forty small tf ops and their
 * gradients. Gradients use g = ∂loss/∂re + i·∂loss/∂im; for w = f(u) holomorphic, g_u = conj(f′)·g_w,
 * and for V = conj(x)·y, g_x = conj(g_V)·y and g_y = g_V·x.
 */
export const WEIGHTS = "DPLRWeights";
export const WEIGHTS_GRAD = "DPLRWeightsGrad";
export const WOODBURY = "DPLRWoodbury";
export const WOODBURY_GRAD = "DPLRWoodburyGrad";

/** Inputs of the weights kernel, in order: the planes of C̃, B and P, each (H, N). */
export const WEIGHT_INPUTS = ["cRe", "cIm", "bRe", "bIm", "pRe", "pIm"] as const;
