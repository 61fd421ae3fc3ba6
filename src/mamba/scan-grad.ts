/**
 * The backward pass of the linear scan is another linear scan, run from the end.
 *
 * Let g_t = ∂L/∂h_t be what the loss gives each h_t directly. Changing h_t also changes every
 * later state through h_{t+1} = a_{t+1}·h_t + b_{t+1}, so the whole derivative δ_t = dL/dh_t obeys
 *
 *   δ_t = g_t + a_{t+1}·δ_{t+1},   δ_{l−1} = g_{l−1}
 *
 * the same recurrence with time reversed and coefficients a_{t+1}. Then, since b_t enters h_t
 * with weight 1 and a_t multiplies h_{t−1}:
 *
 *   dL/db_t = δ_t,   dL/da_t = δ_t·h_{t−1}   (h_{−1} = h0, or 0),   dL/dh0 = a_0·δ_0.
 *
 * So a scan that is fast forward is fast backward too, and the backward pass needs only a and the
 * states h: none of the scan's intermediate tensors, which autodiff would keep.
 */
import * as tf from "@tensorflow/tfjs";
import { lastDim, padLast, shiftLeft, shiftRight, sliceLast } from "./last-axis";
import { DEFAULT_CHUNK, foldInitialState, linearScanBy, SCAN_METHODS, ScanMethod } from "./linear-scan";
import { checkScanInputs, checkSize } from "./scan-args";
import { formatShape } from "../shape-format";
import { customOp2, SaveFn } from "../custom-grad";

/** Which scan to run (forward and backward), its chunk length, and an initial state h0: (...). */
export interface LinearScanOptions {
  /** Default "blelloch". */
  method?: ScanMethod;
  /** Chunk length for method "chunked" (default 64). */
  chunk?: number;
  h0?: tf.Tensor;
}

/** The gradients of the scan's inputs; dh0 only when h0 was given. */
export type LinearScanGrads = {
  da: tf.Tensor;
  db: tf.Tensor;
  dh0?: tf.Tensor;
};

function checkMethod(fn: string, opts: LinearScanOptions): { method: ScanMethod; chunk: number } {
  if (opts === null || typeof opts !== "object")
    throw new Error(`${fn}: opts must be an object, got ${opts === null ? "null" : typeof opts}`);
  const method = opts.method ?? "blelloch";
  if (!(SCAN_METHODS as readonly string[]).includes(method)) {
    throw new Error(`${fn}: method must be one of ${SCAN_METHODS.join(", ")}, got ${JSON.stringify(method)}`);
  }
  const chunk = opts.chunk ?? DEFAULT_CHUNK;
  checkSize(fn, "chunk", chunk);
  return { method, chunk };
}

/** x with its last (time) axis reversed. */
const reverseTime = (x: tf.Tensor): tf.Tensor => tf.reverse(x, x.rank - 1);

/**
 * The gradients of a loss through h = scan(a, b) (from h0, or 0), given g = ∂L/∂h.
 * a, h, g: (..., l); h0: (...). Returns da, db: (..., l) and, with h0, dh0: (...).
 */
export function linearScanBackward(a: tf.Tensor, h: tf.Tensor, g: tf.Tensor, opts: LinearScanOptions = {}): LinearScanGrads {
  const fn = "linearScanBackward";
  checkScanInputs(fn, a, a, opts?.h0);
  for (const [name, t] of [
    ["h", h],
    ["g", g],
  ] as const) {
    if (!(t instanceof tf.Tensor) || formatShape(t.shape) !== formatShape(a.shape)) {
      throw new Error(
        `${fn}: ${name} must have the shape of a, ${formatShape(a.shape)}, got ${t instanceof tf.Tensor ? formatShape(t.shape) : typeof t}`,
      );
    }
  }
  const { method, chunk } = checkMethod(fn, opts);
  return tf.tidy(() => {
    // δ_t = g_t + a_{t+1}·δ_{t+1}: reverse time, and the coefficient of step t is a_{t+1} (0 past the end).
    const aNext = shiftLeft(a, 1, 0); // (..., l)
    const delta = reverseTime(linearScanBy(method, reverseTime(aNext), reverseTime(g), { chunk })); // (..., l)
    let hPrev = shiftRight(h, 1, 0); // h_{t−1}, 0 before the start
    if (opts.h0) hPrev = tf.add(hPrev, padLast(tf.expandDims(opts.h0, -1), 0, lastDim(h) - 1, 0)); // h0 before the start
    const grads: LinearScanGrads = { da: tf.mul(delta, hPrev), db: delta };
    if (opts.h0) grads.dh0 = tf.squeeze(tf.mul(sliceLast(a, 0, 1), sliceLast(delta, 0, 1)), [a.rank - 1]);
    return grads;
  });
}

/**
 * h_t = a_t·h_{t−1} + b_t along the last axis of a, b: (..., l) → h: (..., l), by the chosen
 * parallel scan, with a custom gradient: autodiff runs `linearScanBackward` (the reverse scan)
 * instead of differentiating the scan's steps one by one.
 */
export function linearScan(a: tf.Tensor, b: tf.Tensor, opts: LinearScanOptions = {}): tf.Tensor {
  checkScanInputs("linearScan", a, b, opts?.h0);
  const { method, chunk } = checkMethod("linearScan", opts);
  const scanOp = customOp2((aIn: tf.Tensor, bIn: tf.Tensor, save: SaveFn) => {
    const h = linearScanBy(method, aIn, bIn, { chunk });
    save([aIn, h]); // all the backward pass needs
    return {
      value: h,
      gradFunc: (dh: tf.Tensor, saved: tf.Tensor[]) => {
        const { da, db } = linearScanBackward(saved[0], saved[1], dh, { method, chunk });
        return [da, db];
      },
    };
  });
  // h0 enters as a_0·h0 added to b_0 (see foldInitialState), outside the custom op, so autodiff
  // carries its gradient (and a_0's share of it) through that one product.
  return tf.tidy(() => scanOp(a, foldInitialState(a, b, opts.h0)));
}
