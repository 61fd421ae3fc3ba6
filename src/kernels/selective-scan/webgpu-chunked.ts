/**
 * The selective scan on WebGPU, parallel in time: one workgroup of 64 threads per (b, d) channel.
 *
 * The sequence goes in chunks of CHUNK = 64 × 4 steps; thread `lane` owns the 4 consecutive steps
 * s = t0 + 4·lane … s + 3 of the chunk that starts at t0. Per chunk, for each state k:
 *   1. each thread composes its 4 steps h ↦ Ā_t h + B̄_t u_t into one affine map (a, b);
 *   2. the workgroup scans the 64 maps in workgroup memory (Hillis–Steele: log₂ 64 = 6 rounds of
 *      (a₁, b₁) ⊕ (a₂, b₂) = (a₁a₂, a₂b₁ + b₂)), so each thread learns the map of all steps
 *      before its own within the chunk;
 *   3. that map applied to the carry — the state at the end of the previous chunk — gives the
 *      state before the thread's first step; the thread replays its 4 steps from there;
 *   4. the last thread's map applied to the carry is the next chunk's carry.
 * States go through steps 1–4 in groups of 16, so that the maps fit in workgroup memory
 * (2 × 16 × 64 floats = 8 KiB of the 16 KiB WebGPU guarantees). Nothing of size (b, d, l, n) is
 * ever stored: besides the inputs and outputs, a channel keeps n floats of carry.
 *
 * Backward: a first program saves the state at the start of every chunk, (b, d, l/CHUNK, n).
 * Then each channel walks its chunks from last to first. Inside a chunk it rebuilds the states
 * from the saved start (steps 1–3 again), and runs the adjoint recurrence
 * dh_t = g_t C_t + Ā_{t+1} dh_{t+1} as a reverse scan of the same kind, seeded with the carry
 * Ā_{t1} dh_{t1} from the chunk after it (t1 its first step). With h_{t−1} and dh_t at hand every
 * gradient is a local product: du, dδ and dz belong to the channel; dB and dC (b, n, l) are sums
 * over the d channels and dA, dD and the bias gradient sums over the batch, so those go into the
 * output with atomic adds — a compare-exchange loop on the float's bits, as WGSL has no float
 * atomics (the reference CUDA kernel uses atomicAdd the same way). The order of those additions
 * varies from run to run, so the last bits of dA, dB, dC, dD and the bias gradient do too.
 *
 * Everything the backward writes goes into one packed output (a program has one output binding),
 * unpacked into the eight gradients by copy programs.
 *
 * Control flow around workgroupBarrier() depends only on uniforms and constants, as WGSL's
 * uniformity rules demand; a thread past the end of the sequence (or of the channels) takes part
 * with identity maps and writes nothing.
 */
import * as tf from "@tensorflow/tfjs";
import { flatProgram, WgslProgram } from "../registry";
import { DELTA, elementProgram, programRunner, UNIFORMS, WebGPUBackendLike, WEBGPU_MAX_STATES } from "./webgpu-common";

type Runner = ReturnType<typeof programRunner>;

/** Threads per workgroup, one workgroup per channel. */
export const SCAN_THREADS = 64;
/** Consecutive steps each thread owns within a chunk. */
export const STEPS_PER_THREAD = 4;
/** Steps per chunk. */
export const CHUNK = SCAN_THREADS * STEPS_PER_THREAD;
/** States scanned together (their maps share workgroup memory). */
const GROUP = 16;
const W = SCAN_THREADS,
  P = STEPS_PER_THREAD;

/** A program with one workgroup per channel. */
function channelProgram(shaderKey: string, variableNames: string[], outputShape: number[], channels: number, body: string): WgslProgram {
  return flatProgram(shaderKey, variableNames, outputShape, body, UNIFORMS, channels * W, W);
}

/**
 * A Hillis–Steele scan over the 64 threads' maps in workgroup memory, for the `ng` states of a
 * group: in each of log₂ 64 rounds a thread composes its map with that of the thread `off` places
 * towards the `from` side, (a, b) ← (a·a', a·b' + b); the composition is the same both ways, only
 * the neighbour differs.
 */
const scanLanes = (name: string, from: "earlier" | "later") => {
  const neighbour = from === "earlier" ? "lane - off" : "lane + off";
  const inRange = from === "earlier" ? "lane >= off" : `lane + off < ${W}`;
  return `
  fn ${name}(lane : i32, ng : i32) {
    for (var off = 1; off < ${W}; off = off * 2) {
      var na : array<f32, ${GROUP}>;
      var nb : array<f32, ${GROUP}>;
      for (var kk = 0; kk < ng; kk++) {
        if (${inRange}) { na[kk] = mapA[kk * ${W} + ${neighbour}]; nb[kk] = mapB[kk * ${W} + ${neighbour}]; }
      }
      workgroupBarrier();
      for (var kk = 0; kk < ng; kk++) {
        if (${inRange}) {
          let i = kk * ${W} + lane;
          mapB[i] = mapA[i] * nb[kk] + mapB[i]; // the neighbour's map first, then this one
          mapA[i] = mapA[i] * na[kk];
        }
      }
      workgroupBarrier();
    }
  }`;
};

/** Workgroup memory and the scans over the 64 threads' maps, for the `ng` states of a group. */
const SCANS = `
  var<workgroup> mapA : array<f32, ${GROUP * W}>; // [state in group][thread]
  var<workgroup> mapB : array<f32, ${GROUP * W}>;
  var<workgroup> carry : array<f32, ${WEBGPU_MAX_STATES}>;

  // Inclusive scan from the first thread on: thread i ends with the maps of threads 0..i composed.
  ${scanLanes("scanForward", "earlier")}

  // Inclusive scan from the last thread back: thread i ends with the maps of threads i..63, where
  // a map sends the value after a thread's steps to the value at its first step.
  ${scanLanes("scanBackward", "later")}
`;

/** The channel of this workgroup and this thread's place in it. */
const CHANNEL = `
    let lane = i32(localIndex);
    let D_ = uniforms.nd; let L = uniforms.nl; let N = uniforms.nn;
    let BDL = uniforms.nb * D_ * L;
    let ch = index / ${W};              // channel b·d + di (the same for the whole workgroup)
    let valid = ch < uniforms.nb * D_;  // false only in padding workgroups
    let chv = select(0, ch, valid);     // an in-range channel for reads
    let bi = chv / D_; let di = chv - bi * D_;`;

/**
 * Steps 1–3 for the states g0 … g0 + ng − 1 of a group: compose, scan, and leave in hStart[kk]
 * the state just before this thread's first step, from the chunk's start state `start(k)`.
 * `dt[j]`, `x[j]` = δ u, and `s` (the thread's first step) must be in scope.
 */
const stateStarts = (start: (k: string) => string) => `
        for (var kk = 0; kk < ng; kk++) {
          let a = aa[di * N + g0 + kk];
          var pa = 1.0; var pb = 0.0;
          for (var j = 0; j < ${P}; j++) {
            if (s + j < L) {
              let e = exp(dt[j] * a);
              pa = e * pa;
              pb = e * pb + x[j] * bb[(bi * N + g0 + kk) * L + s + j];
            }
          }
          mapA[kk * ${W} + lane] = pa; mapB[kk * ${W} + lane] = pb;
        }
        workgroupBarrier();
        scanForward(lane, ng);
        var hStart : array<f32, ${GROUP}>;
        for (var kk = 0; kk < ng; kk++) {
          hStart[kk] = ${start("g0 + kk")};
          if (lane > 0) { hStart[kk] = mapA[kk * ${W} + lane - 1] * hStart[kk] + mapB[kk * ${W} + lane - 1]; }
        }`;

/** This thread's δ, u and δ·u for its steps of the chunk at t0 (zeros past the end). */
const LOAD_STEPS = (dtAt: string, uAt: string) => `
      let s = t0 + lane * ${P};
      var dt : array<f32, ${P + 1}>;
      var uv : array<f32, ${P}>;
      var x : array<f32, ${P}>;
      for (var j = 0; j < ${P}; j++) {
        dt[j] = 0.0; uv[j] = 0.0; x[j] = 0.0;
        if (s + j < L) { let i = chv * L + s + j; dt[j] = ${dtAt}; uv[j] = ${uAt}; x[j] = dt[j] * uv[j]; }
      }`;

/**
 * Forward. emit "y": y (b, d, l) followed by the last state (b, d, n) in one output;
 * emit "starts": the state before every chunk, (b, d, chunks, n), for the backward.
 * Reads δ as dte, u as uu ("y") or both from the packed per-step buffer st ("starts").
 */
const forwardShader = (emit: "y" | "starts") => `
  ${SCANS}
  fn main(index : i32) {
    ${CHANNEL}
    let chunks = (L + ${CHUNK - 1}) / ${CHUNK};
    for (var k = lane; k < N; k += ${W}) { carry[k] = 0.0; }
    workgroupBarrier();
    for (var c = 0; c < chunks; c++) {
      let t0 = c * ${CHUNK};
      ${emit === "y" ? LOAD_STEPS("dte[i]", "uu[i]") : LOAD_STEPS("st[i]", "st[BDL + i]")}
      ${emit === "starts" ? `for (var k = lane; k < N; k += ${W}) { if (valid) { result[(chv * chunks + c) * N + k] = carry[k]; } }` : ""}
      var yacc : array<f32, ${P}>;
      for (var j = 0; j < ${P}; j++) { yacc[j] = 0.0; } // a declaration in a loop is not reset on every pass
      for (var g0 = 0; g0 < N; g0 += ${GROUP}) {
        let ng = min(${GROUP}, N - g0);
        ${stateStarts((k) => `carry[${k}]`)}
        ${
          emit === "y"
            ? `
        for (var kk = 0; kk < ng; kk++) {
          let a = aa[di * N + g0 + kk];
          var h = hStart[kk];
          for (var j = 0; j < ${P}; j++) {
            if (s + j < L) {
              let row = (bi * N + g0 + kk) * L + s + j;
              h = exp(dt[j] * a) * h + x[j] * bb[row];
              yacc[j] += cc[row] * h;
            }
          }
        }`
            : ""
        }
        workgroupBarrier(); // every thread has read the carry and the maps
        if (lane < ng) {
          let last = lane * ${W} + ${W - 1};
          carry[g0 + lane] = mapA[last] * carry[g0 + lane] + mapB[last];
        }
        workgroupBarrier();
      }
      ${
        emit === "y"
          ? `
      for (var j = 0; j < ${P}; j++) {
        if (valid && s + j < L) {
          let i = chv * L + s + j;
          var yt = yacc[j] + dd[di] * uu[i];
          if (uniforms.gate == 1) { let zt = zz[i]; yt *= zt / (1.0 + exp(-zt)); }
          result[i] = yt;
        }
      }`
          : ""
      }
    }
    ${emit === "y" ? `for (var k = lane; k < N; k += ${W}) { if (valid) { result[BDL + chv * N + k] = carry[k]; } }` : ""}
  }`;

/**
 * The per-step values of the backward, packed as five planes of (b, d, l): δ, u, g = ∂loss/∂y
 * before the gate (dy·silu(z)), the slope dδ/d(delta) (sigmoid under softplus), and
 * q = dy·silu'(z), from which dz = q·(y before the gate).
 */
const STEP_VALUES = `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let BDL = uniforms.nb * uniforms.nd * uniforms.nl;
    let plane = index / BDL;
    let i = index - plane * BDL;
    let raw = dlt[i] + dbias[(i / uniforms.nl) % uniforms.nd];
    let soft = uniforms.soft == 1 && raw <= 20.0;
    var zt = 0.0; var gate = 1.0; var gateSlope = 0.0;
    if (uniforms.gate == 1) {
      zt = zz[i];
      let sg = 1.0 / (1.0 + exp(-zt));
      gate = zt * sg;
      gateSlope = sg * (1.0 + zt * (1.0 - sg)); // silu'(z) = σ(z)(1 + z(1 − σ(z)))
    }
    var v = 0.0;
    switch plane {
      case 0: { v = raw; if (soft) { v = select(log(1.0 + exp(raw)), exp(raw), raw < -15.0); } }
      case 1: { v = uu[i]; }
      case 2: { v = gy[i] * gate; }
      case 3: { v = 1.0; if (soft) { v = 1.0 / (1.0 + exp(-raw)); } }
      default: { v = gy[i] * gateSlope; }
    }
    result[index] = v;
  }`;

/**
 * The backward's packed output, in order: each gradient and its length, as a number (for the
 * unpacking) and as a WGSL expression (for the shader's offsets), so that the two cannot disagree.
 */
const PACKED_GRADS = [
  { name: "du", wgsl: "BDL", length: (s: Dims) => s.b * s.d * s.l },
  { name: "dDelta", wgsl: "BDL", length: (s: Dims) => s.b * s.d * s.l },
  { name: "dz", wgsl: "BDL", length: (s: Dims) => s.b * s.d * s.l },
  { name: "dB", wgsl: "BNL", length: (s: Dims) => s.b * s.n * s.l },
  { name: "dC", wgsl: "BNL", length: (s: Dims) => s.b * s.n * s.l },
  { name: "dA", wgsl: "D_ * N", length: (s: Dims) => s.d * s.n },
  { name: "dD", wgsl: "D_", length: (s: Dims) => s.d },
  { name: "dBias", wgsl: "D_", length: (s: Dims) => s.d },
] as const;
type Dims = { b: number; d: number; l: number; n: number };
type PackedGrad = (typeof PACKED_GRADS)[number]["name"];

/** Where each gradient starts in the packed output, and its whole size. */
function packedLayout(dims: Dims): Record<PackedGrad, number> & { size: number } {
  const at = {} as Record<PackedGrad, number>;
  let size = 0;
  for (const g of PACKED_GRADS) {
    at[g.name] = size;
    size += g.length(dims);
  }
  return { ...at, size };
}

/** The same offsets in WGSL: `let at_dB = BDL + BDL + BDL;` and so on (BDL, BNL, D_ and N in scope). */
const PACKED_OFFSETS = PACKED_GRADS.map(
  (g, i) =>
    `let at_${g.name} = ${
      PACKED_GRADS.slice(0, i)
        .map((h) => h.wgsl)
        .join(" + ") || "0"
    };`,
).join("\n    ");

/** The backward proper: packed gradients (laid out as PACKED_GRADS says), accumulated with atomic
 * adds where channels share one. */
const BACKWARD = `
  ${SCANS}
  var<workgroup> partial : array<f32, ${GROUP * W}>; // per-thread shares of dA, then of dD and the bias
  var<workgroup> adjoint : array<f32, ${WEBGPU_MAX_STATES}>; // Ā_{t1} dh_{t1}, t1 the first step of the chunk after

  fn store(i : i32, v : f32) { atomicStore(&result[i], bitcast<i32>(v)); }
  fn add(i : i32, v : f32) {
    var old = atomicLoad(&result[i]);
    loop {
      let r = atomicCompareExchangeWeak(&result[i], old, bitcast<i32>(bitcast<f32>(old) + v));
      if (r.exchanged) { break; }
      old = r.old_value;
    }
  }

  fn main(index : i32) {
    ${CHANNEL}
    let BNL = uniforms.nb * N * L;
    ${PACKED_OFFSETS}
    let chunks = (L + ${CHUNK - 1}) / ${CHUNK};
    for (var k = lane; k < N; k += ${W}) { adjoint[k] = gl[chv * N + k]; } // the last state's gradient
    var dAOwn : array<f32, ${WEBGPU_MAX_STATES / GROUP}>; // this thread's dA for state (group, lane)
    var dDOwn = 0.0; var dBiasOwn = 0.0;
    workgroupBarrier();
    for (var c = chunks - 1; c >= 0; c--) {
      let t0 = c * ${CHUNK};
      ${LOAD_STEPS("st[i]", "st[BDL + i]")}
      // δ of the step after this thread's last one, inside the chunk (0 gives Ā = 1 at its end)
      dt[${P}] = 0.0;
      if (s + ${P} < min(t0 + ${CHUNK}, L)) { dt[${P}] = st[chv * L + s + ${P}]; }
      var g : array<f32, ${P}>;
      for (var j = 0; j < ${P}; j++) { g[j] = 0.0; if (s + j < L) { g[j] = st[2 * BDL + chv * L + s + j]; } }
      var duAcc : array<f32, ${P}>; var dtAcc : array<f32, ${P}>; var yAcc : array<f32, ${P}>;
      for (var j = 0; j < ${P}; j++) { duAcc[j] = 0.0; dtAcc[j] = 0.0; yAcc[j] = 0.0; }
      for (var g0 = 0; g0 < N; g0 += ${GROUP}) {
        let ng = min(${GROUP}, N - g0);
        ${stateStarts((k) => `starts[(chv * chunks + c) * N + ${k}]`)}
        workgroupBarrier();
        // The adjoint's maps, from the value after a thread's steps to the value at its first:
        // dh_t = Ā_{t+1} dh_{t+1} + g_t C_t.
        for (var kk = 0; kk < ng; kk++) {
          let a = aa[di * N + g0 + kk];
          var pa = 1.0; var pb = 0.0;
          for (var j = ${P - 1}; j >= 0; j--) {
            if (s + j < L) {
              let e = exp(dt[j + 1] * a);
              pa = e * pa;
              pb = e * pb + g[j] * cc[(bi * N + g0 + kk) * L + s + j];
            }
          }
          mapA[kk * ${W} + lane] = pa; mapB[kk * ${W} + lane] = pb;
        }
        workgroupBarrier();
        scanBackward(lane, ng);
        var toAdjoint : array<f32, ${GROUP}>; // Ā_{t1} dh_{t1} of this chunk, from thread 0
        for (var kk = 0; kk < ng; kk++) {
          let k = g0 + kk;
          let a = aa[di * N + k];
          var dh = adjoint[k]; // dh after this thread's last step (times its Ā)
          if (lane < ${W - 1}) { dh = mapA[kk * ${W} + lane + 1] * dh + mapB[kk * ${W} + lane + 1]; }
          var h : array<f32, ${P + 1}>; // h[j] = the state before step s + j
          h[0] = hStart[kk];
          for (var j = 0; j < ${P}; j++) {
            h[j + 1] = h[j];
            if (s + j < L) { h[j + 1] = exp(dt[j] * a) * h[j] + x[j] * bb[(bi * N + k) * L + s + j]; }
          }
          var dA = 0.0;
          for (var j = ${P - 1}; j >= 0; j--) {
            if (s + j < L) {
              let row = (bi * N + k) * L + s + j;
              let e = exp(dt[j] * a);
              dh = exp(dt[j + 1] * a) * dh + g[j] * cc[row];
              let bt = bb[row];
              duAcc[j] += dh * bt;
              dtAcc[j] += dh * (a * e * h[j] + bt * uv[j]);
              dA += dh * dt[j] * e * h[j];
              yAcc[j] += cc[row] * h[j + 1];
              if (valid) {
                add(at_dB + row, dh * x[j]);
                add(at_dC + row, g[j] * h[j + 1]);
              }
            }
          }
          toAdjoint[kk] = exp(dt[0] * a) * dh;
          partial[kk * ${W} + lane] = dA;
        }
        workgroupBarrier();
        if (lane == 0) { for (var kk = 0; kk < ng; kk++) { adjoint[g0 + kk] = toAdjoint[kk]; } }
        if (lane < ng) {
          var sum = 0.0;
          for (var i = 0; i < ${W}; i++) { sum += partial[lane * ${W} + i]; }
          dAOwn[g0 / ${GROUP}] += sum;
        }
        workgroupBarrier();
      }
      for (var j = 0; j < ${P}; j++) {
        if (valid && s + j < L) {
          let i = chv * L + s + j;
          let u = uv[j];
          let dRaw = dtAcc[j] * st[3 * BDL + i];
          store(at_du + i, g[j] * dd[di] + dt[j] * duAcc[j]);
          store(at_dDelta + i, dRaw);
          store(at_dz + i, st[4 * BDL + i] * (yAcc[j] + dd[di] * u));
          dDOwn += g[j] * u;
          dBiasOwn += dRaw;
        }
      }
    }
    partial[lane] = dDOwn;
    partial[${W} + lane] = dBiasOwn;
    workgroupBarrier();
    if (valid && lane == 0) {
      var sD = 0.0; var sBias = 0.0;
      for (var i = 0; i < ${W}; i++) { sD += partial[i]; sBias += partial[${W} + i]; }
      add(at_dD + di, sD);
      add(at_dBias + di, sBias);
    }
    for (var g0 = 0; g0 < N; g0 += ${GROUP}) {
      if (valid && lane < min(${GROUP}, N - g0)) { add(at_dA + di * N + g0 + lane, dAOwn[g0 / ${GROUP}]); }
    }
  }`;

/** Zeros, the start of an output that a program accumulates into. */
const ZEROS = `
  fn main(index : i32) {
    if (index < uniforms.size) { result[index] = 0.0; }
  }`;

/** A slice of a packed buffer: result[i] = packed[off + i]. */
const UNPACK = `
  fn main(index : i32) {
    if (index < uniforms.size) { result[index] = packed[uniforms.off + index]; }
  }`;

/** y (b, d, l) and the last state (b, d, n). */
export function chunkedForward(r: Runner, dims: { b: number; d: number; l: number; n: number }): tf.TensorInfo[] {
  const { b, d, l, n } = dims;
  const dte = r.set("dte", r.run(elementProgram("selectiveScanDelta", ["dlt", "dbias"], [b, d, l], DELTA)));
  const packed = r.set(
    "packed",
    r.run(
      channelProgram("selectiveScanChunkedY", ["uu", "dte", "aa", "bb", "cc", "dd", "zz"], [b * d * (l + n)], b * d, forwardShader("y")),
    ),
  );
  const y = r.run(elementProgram("selectiveScanUnpack", ["packed"], [b, d, l], UNPACK), { off: 0 });
  const last = r.run(elementProgram("selectiveScanUnpack", ["packed"], [b, d, n], UNPACK), { off: b * d * l });
  r.free(dte, packed);
  return [y, last];
}

/** The gradients of u, delta, A, B, C, D, z and the bias. */
export function chunkedBackward(
  r: Runner,
  be: WebGPUBackendLike,
  named: Record<string, tf.TensorInfo>,
  dims: { b: number; d: number; l: number; n: number; gate: boolean },
): tf.TensorInfo[] {
  const { b, d, l, n, gate } = dims;
  const bdl = b * d * l,
    chunks = Math.ceil(l / CHUNK);
  const limit = be.device?.limits?.maxStorageBufferBindingSize ?? Infinity;
  if (5 * bdl * 4 > limit) {
    throw new Error(
      `selectiveScan: the WebGPU gradient keeps five values per step, 5·b·d·l = ${5 * bdl} floats, ` +
        `more than this device's storage buffer limit of ${limit} bytes; use smaller batches or shorter sequences`,
    );
  }
  const steps = r.set("st", r.run(elementProgram("selectiveScanStepValues", ["dlt", "dbias", "uu", "gy", "zz"], [5 * bdl], STEP_VALUES)));
  const starts = r.set(
    "starts",
    r.run(channelProgram("selectiveScanChunkStarts", ["st", "aa", "bb"], [b * d * chunks * n], b * d, forwardShader("starts"))),
  );
  const at = packedLayout(dims);
  const zeros = r.run(elementProgram("selectiveScanZeros", [], [at.size], ZEROS));
  const program = channelProgram("selectiveScanChunkedGrad", ["st", "aa", "bb", "cc", "starts", "gl", "dd"], [at.size], b * d, BACKWARD);
  const packed = r.set("packed", r.run({ ...program, atomic: true } as WgslProgram, { output: zeros }));
  const unpack = (off: number, shape: number[]) => r.run(elementProgram("selectiveScanUnpack", ["packed"], shape, UNPACK), { off });
  const grads = [
    unpack(at.du, [b, d, l]),
    unpack(at.dDelta, [b, d, l]),
    unpack(at.dA, [d, n]),
    unpack(at.dB, [b, n, l]),
    unpack(at.dC, [b, n, l]),
    unpack(at.dD, [d]),
    gate ? unpack(at.dz, [b, d, l]) : r.run(elementProgram("selectiveScanZeros", [], named.zz.shape, ZEROS)),
    unpack(at.dBias, [d]),
  ];
  r.free(steps, starts, packed);
  return grads;
}
