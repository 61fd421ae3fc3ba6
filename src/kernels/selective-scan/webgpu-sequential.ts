/**
 * The sequential WGSL selective scan, kept as the reference twin of the chunked one
 * (webgpu-chunked.ts) and run with `selectiveScan(..., { scan: "sequential" })`.
 *
 * Forward: one thread per (b, d) channel walks over l in order with its n states in a private
 * array (so n ≤ 64) and writes y; a second program, the same scan without the output sum, writes
 * the last state. The GPU is only busy when b·d is in the tens of thousands.
 *
 * Backward: a GPU thread has no room for an l×n replay, but each of the n states of a channel
 * evolves on its own (only y mixes them), so
 *   1. one thread per (b, d, k) reruns the scan of state k and stores every h_t: H (b, d, l, n);
 *   2. one thread per (b, d, k) runs the adjoint recurrence backwards,
 *      dh_t = g_t C_t[k] + exp(δ_{t+1} A) dh_{t+1}, seeded with the last state's gradient: dH;
 *   3. every input gradient is then a sum over k (du, dδ, dz: one thread per (b, d, t)) or over
 *      the axes its input lacks (dA over (b, t); dB and dC over d; dD and the bias over (b, t)),
 *      each output element summed by its own thread.
 * H and dH are (b, d, l, n) buffers — the memory the chunked kernel avoids; they and the other
 * intermediates are freed before the kernel returns.
 */
import * as tf from "@tensorflow/tfjs";
import { DELTA, elementProgram, threadProgram, WEBGPU_MAX_STATES, WebGPUBackendLike, programRunner } from "./webgpu-common";

type Runner = ReturnType<typeof programRunner>;

// Index arithmetic shared by the shaders: sizes from the uniforms, then the channel c = b·d + di
// and step t of a flat (b, d, l) index, or the channel and state k of a flat (b, d, n) index.
const SIZES = "let D_ = uniforms.nd; let L = uniforms.nl; let N = uniforms.nn;";
const STEP_COORDS = "let c = index / L; let t = index - c * L; let bi = c / D_; let di = c - bi * D_;";
const STATE_COORDS = "let c = index / N; let k = index - c * N; let bi = c / D_; let di = c - bi * D_;";

/** y (b, d, l), or the last state (b, d, n): one thread per channel. */
const forwardScan = (emit: "y" | "last") => `
  fn main(index : i32) {
    ${SIZES}
    if (index >= uniforms.nb * D_) { return; }
    let bi = index / D_;
    let di = index - bi * D_;
    var h : array<f32, ${WEBGPU_MAX_STATES}>;
    for (var k = 0; k < N; k++) { h[k] = 0.0; }
    for (var t = 0; t < L; t++) {
      let i = index * L + t;
      let dt = dte[i];
      let x = dt * uu[i];
      var acc = 0.0;
      for (var k = 0; k < N; k++) {
        let j = (bi * N + k) * L + t; // B, C: (b, n, l)
        h[k] = exp(dt * aa[di * N + k]) * h[k] + x * bb[j];
        ${emit === "y" ? "acc += cc[j] * h[k];" : ""}
      }
      ${
        emit === "y"
          ? `
      var yt = acc + dd[di] * uu[i];
      if (uniforms.gate == 1) {
        let zt = zz[i];
        yt *= zt / (1.0 + exp(-zt)); // silu(z)
      }
      result[i] = yt;`
          : ""
      }
    }
    ${emit === "last" ? "for (var k = 0; k < N; k++) { result[index * N + k] = h[k]; }" : ""}
  }`;

/** g (b, d, l): the gradient reaching y before the gate, dy·silu(z) (or dy without a gate). */
const PRE_GATE = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    var g = gy[index];
    if (uniforms.gate == 1) {
      let zt = zz[index];
      g *= zt / (1.0 + exp(-zt));
    }
    result[index] = g;
  }`;

/** H: every state, H[(c·l + t)·n + k] = h_t[k]; one thread per (channel, k). */
const STATES = `
  fn main(index : i32) {
    ${SIZES}
    if (index >= uniforms.nb * D_ * N) { return; }
    ${STATE_COORDS}
    let a = aa[di * N + k];
    var h = 0.0;
    for (var t = 0; t < L; t++) {
      let i = c * L + t;
      let dt = dte[i];
      h = exp(dt * a) * h + dt * uu[i] * bb[(bi * N + k) * L + t];
      result[i * N + k] = h;
    }
  }`;

/** dH (same layout): the adjoint states, from the last step back to the first. */
const ADJOINT = `
  fn main(index : i32) {
    ${SIZES}
    if (index >= uniforms.nb * D_ * N) { return; }
    ${STATE_COORDS}
    let a = aa[di * N + k];
    var g = gl[index]; // dLast is (b, d, n), laid out like index
    for (var t = L - 1; t >= 0; t--) {
      let i = c * L + t;
      g = g + pg[i] * cc[(bi * N + k) * L + t];
      result[i * N + k] = g;
      g = g * exp(dte[i] * a); // carry back to h_{t-1}
    }
  }`;

/** du (b, d, l) = g·D + δ Σ_k dh_t[k] B_t[k]. */
const DU = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${SIZES}
    ${STEP_COORDS}
    var s = 0.0;
    for (var k = 0; k < N; k++) { s += dhs[index * N + k] * bb[(bi * N + k) * L + t]; }
    result[index] = pg[index] * dd[di] + dte[index] * s;
  }`;

/** ∂loss/∂δ (b, d, l) = Σ_k dh_t[k] (A_k exp(δ_t A_k) h_{t−1}[k] + B_t[k] u_t). */
const DDELTA = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${SIZES}
    ${STEP_COORDS}
    let dt = dte[index];
    let ut = uu[index];
    var s = 0.0;
    for (var k = 0; k < N; k++) {
      var ds = bb[(bi * N + k) * L + t] * ut;
      if (t > 0) {
        let a = aa[di * N + k];
        ds += a * exp(dt * a) * hs[(index - 1) * N + k];
      }
      s += dhs[index * N + k] * ds;
    }
    result[index] = s;
  }`;

/** The gradient of the raw delta: ∂loss/∂δ times softplus' = sigmoid(delta + bias). */
const DELTA_SLOPE = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    var g = ddl[index];
    if (uniforms.soft == 1) {
      let raw = dlt[index] + dbias[(index / uniforms.nl) % uniforms.nd];
      if (raw <= 20.0) { g *= 1.0 / (1.0 + exp(-raw)); }
    }
    result[index] = g;
  }`;

/** dz (b, d, l) = dy · y · silu'(z), with y before the gate rebuilt from H. */
const DZ = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    if (uniforms.gate == 0) { result[index] = 0.0; return; } // z is a placeholder
    ${SIZES}
    ${STEP_COORDS}
    var y = dd[di] * uu[index];
    for (var k = 0; k < N; k++) { y += cc[(bi * N + k) * L + t] * hs[index * N + k]; }
    let zt = zz[index];
    let s = 1.0 / (1.0 + exp(-zt));
    result[index] = gy[index] * y * s * (1.0 + zt * (1.0 - s)); // silu'(z) = σ(z)(1 + z(1 − σ(z)))
  }`;

/** dA (d, n) = Σ over (b, t) of dh_t · δ_t exp(δ_t A) h_{t−1}. */
const DA = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${SIZES}
    let di = index / N;
    let k = index - di * N;
    let a = aa[index];
    var acc = 0.0;
    for (var bi = 0; bi < uniforms.nb; bi++) {
      let c = bi * D_ + di;
      for (var t = 1; t < L; t++) {
        let i = c * L + t;
        let dt = dte[i];
        acc += dhs[i * N + k] * dt * exp(dt * a) * hs[(i - 1) * N + k];
      }
    }
    result[index] = acc;
  }`;

/** dB or dC (b, n, l): Σ over d of dh_t·δ_t u_t, or of g_t·h_t. */
const overChannels = (what: "dB" | "dC") => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    ${SIZES}
    let bk = index / L;
    let t = index - bk * L;
    let bi = bk / N;
    let k = bk - bi * N;
    var acc = 0.0;
    for (var di = 0; di < D_; di++) {
      let i = (bi * D_ + di) * L + t;
      ${what === "dB" ? "acc += dhs[i * N + k] * dte[i] * uu[i];" : "acc += pg[i] * hs[i * N + k];"}
    }
    result[index] = acc;
  }`;

/** dD or the bias gradient (d): Σ over (b, t) of g_t·u_t, or of the delta gradient. */
const overBatchAndTime = (what: "dD" | "dBias") => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let L = uniforms.nl;
    var acc = 0.0;
    for (var bi = 0; bi < uniforms.nb; bi++) {
      let c = bi * uniforms.nd + index;
      for (var t = 0; t < L; t++) {
        let i = c * L + t;
        ${what === "dD" ? "acc += pg[i] * uu[i];" : "acc += gdl[i];"}
      }
    }
    result[index] = acc;
  }`;

/** y (b, d, l) and the last state (b, d, n), one thread per channel. */
export function sequentialForward(r: Runner, dims: { b: number; d: number; l: number; n: number }): tf.TensorInfo[] {
  const { b, d, l, n } = dims;
  const dte = r.set("dte", r.run(elementProgram("selectiveScanDelta", ["dlt", "dbias"], [b, d, l], DELTA)));
  const y = r.run(threadProgram("selectiveScanY", ["uu", "dte", "aa", "bb", "cc", "dd", "zz"], [b, d, l], b * d, forwardScan("y")));
  const last = r.run(threadProgram("selectiveScanLast", ["uu", "dte", "aa", "bb"], [b, d, n], b * d, forwardScan("last")));
  r.free(dte);
  return [y, last];
}

/** The gradients of u, delta, A, B, C, D, z and the bias, through (b, d, l, n) buffers of every
 * state and adjoint state. */
export function sequentialBackward(
  r: Runner,
  be: WebGPUBackendLike,
  named: Record<string, tf.TensorInfo>,
  dims: { b: number; d: number; l: number; n: number },
): tf.TensorInfo[] {
  const { b, d, l, n } = dims;
  const limit = be.device?.limits?.maxStorageBufferBindingSize ?? Infinity;
  if (b * d * l * n * 4 > limit) {
    throw new Error(
      `selectiveScan: the WebGPU gradient stores every state, b·d·l·n = ${b * d * l * n} floats, ` +
        `more than this device's storage buffer limit of ${limit} bytes; use smaller batches or shorter sequences`,
    );
  }
  const bdl = [b, d, l],
    bdn = b * d * n,
    states = [b * d * l * n];
  const dte = r.set("dte", r.run(elementProgram("selectiveScanDelta", ["dlt", "dbias"], bdl, DELTA)));
  const pg = r.set("pg", r.run(elementProgram("selectiveScanPreGate", ["gy", "zz"], bdl, PRE_GATE)));
  const H = r.set("hs", r.run(threadProgram("selectiveScanStates", ["uu", "dte", "aa", "bb"], states, bdn, STATES)));
  const dH = r.set("dhs", r.run(threadProgram("selectiveScanAdjoint", ["pg", "cc", "dte", "aa", "gl"], states, bdn, ADJOINT)));
  const du = r.run(elementProgram("selectiveScanDu", ["pg", "dd", "dte", "dhs", "bb"], bdl, DU));
  const dEff = r.set("ddl", r.run(elementProgram("selectiveScanDdelta", ["uu", "dte", "aa", "hs", "dhs", "bb"], bdl, DDELTA)));
  const dDelta = r.set("gdl", r.run(elementProgram("selectiveScanDeltaSlope", ["ddl", "dlt", "dbias"], bdl, DELTA_SLOPE)));
  const dz = r.run(elementProgram("selectiveScanDz", ["gy", "zz", "dd", "uu", "cc", "hs"], named.zz.shape, DZ));
  const dA = r.run(elementProgram("selectiveScanDA", ["dhs", "dte", "aa", "hs"], [d, n], DA));
  const dB = r.run(elementProgram("selectiveScanDB", ["dhs", "dte", "uu"], [b, n, l], overChannels("dB")));
  const dC = r.run(elementProgram("selectiveScanDC", ["pg", "hs"], [b, n, l], overChannels("dC")));
  const dD = r.run(elementProgram("selectiveScanDD", ["pg", "uu"], [d], overBatchAndTime("dD")));
  const dBias = r.run(elementProgram("selectiveScanDBias", ["gdl"], [d], overBatchAndTime("dBias")));
  r.free(dte, pg, H, dH, dEff);
  return [du, dDelta, dA, dB, dC, dD, dz, dBias];
}
