/**
 * The selective scan as typed-array loops for the host backends (cpu and wasm), written as host
 * kernels (host-kernel.ts) that run on worker threads.
 *
 * Forward: one unit per pair of channels (b, d0..d0+1); each is scanned over l with its n states
 * in a small scratch array.
 * Backward, two phases:
 *   1. one unit per batch row b: per pair of channels, the forward pass is replayed into l×n
 *      scratch (the decay exp(δ_t A) and the state h_t at every step), then a reverse scan carries
 *      the adjoint state dh_t = ∂loss/∂h_t back in time and collects the gradients on the way.
 *      du, dδ and dz are per channel; dB and dC (b, n, l) are sums over the channels of row b, so
 *      the unit that owns row b owns them too; dA, dD and the bias gradient are sums over b as
 *      well, so each unit writes its row's shares into scratch (b, d, n + 2);
 *   2. one unit per channel d: those shares summed over b in order.
 * Besides those shares, only per-thread scratch of (l, n) is allocated, never a (b, d, l, n) tensor.
 *
 * Speed: B and C (b, n, l) are transposed into step-major rows, next to the other per-step data
 * (decays, states, gradients of B and C), so the loop over the n states reads consecutive memory
 * from one array; channels go two at a time, sharing those reads and giving the processor two
 * independent dependency chains; δ (softplus) and the gate's sigmoid are computed a channel row at
 * a time before the scan; exponentials use a table-driven exp after one range test per row of
 * exponents (`inTable`), instead of Math.exp.
 */
import { HostKernelBuffers, HostKernelSpec } from "../host-kernel";
import { expInRange, fastExp, inTable, log1pUnit, sigmoid, softplus } from "./fast-math";
import { SCAN_GRAD_INPUTS, SCAN_GRAD_KERNEL, SCAN_INPUTS, SCAN_KERNEL } from "./names";

export { SCAN_GRAD_INPUTS, SCAN_INPUTS } from "./names";

/** Loads row di of A (d, n) into dst at off; returns its least and greatest entries (NaN if any
 * entry is NaN), which `inTable` uses to test a whole row of exponents at once. */
function loadRow(A: Float32Array, di: number, n: number, dst: Float64Array, off: number): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = A[di * n + k];
    dst[off + k] = v;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/**
 * Fills dst[0..l) with the δ of one channel (delta[base + t] + bias, through softplus if soft)
 * and, when slope is given, slope[t] with dδ/d(delta): sigmoid under softplus, else 1 (and 1
 * where softplus is linear). One tight loop per channel, ahead of the scan, keeps these calls out
 * of it.
 */
function deltaRow(
  delta: Float32Array,
  base: number,
  l: number,
  bias: number,
  soft: boolean,
  dst: Float64Array,
  slope?: Float64Array,
): void {
  if (!soft) {
    for (let t = 0; t < l; t++) dst[t] = delta[base + t] + bias;
    if (slope) slope.fill(1, 0, l);
    return;
  }
  if (!slope) {
    for (let t = 0; t < l; t++) dst[t] = softplus(delta[base + t] + bias);
    return;
  }
  for (let t = 0; t < l; t++) {
    const raw = delta[base + t] + bias;
    // With q = e^(−|x|): softplus(x) = max(x, 0) + log(1 + q), sigmoid(x) = (x ≥ 0 ? 1 : q)/(1 + q).
    const q = fastExp(-Math.abs(raw));
    dst[t] = raw > 20 ? raw : Math.max(raw, 0) + log1pUnit(q);
    slope[t] = raw > 20 ? 1 : (raw >= 0 ? 1 : q) / (1 + q);
  }
}

/** Fills dst[0..l) with sigmoid(z[base + t]): the gate silu(z) = z·sigmoid(z) and its slope
 * both come from it. */
function sigmoidRow(z: Float32Array, base: number, l: number, dst: Float64Array): void {
  for (let t = 0; t < l; t++) dst[t] = sigmoid(z[base + t]);
}

/** The sizes of a call, from the shapes of u (b, d, l) and A (d, n). */
function sizesOf(shapes: number[][]): { b: number; d: number; l: number; n: number } {
  const [b, d, l] = shapes[0];
  return { b, d, l, n: shapes[2][1] };
}

/** Channel pairs per batch row. */
const pairsOf = (d: number) => (d + 1) >> 1;

// Channels are processed in pairs (d0, d1) of one batch row. With an odd d the last channel is
// paired with itself: the forward writes identical values twice; the backward gives the copy a
// zero output gradient, so it adds nothing, and writes its (zero) per-step results before the
// real channel's.
//
// The loops live in small functions called once per pair: V8 optimizes those once and keeps them,
// where one big function would be recompiled on the fly (on-stack replacement) every call. Each
// function copies what it needs from its call object into locals before looping.
//
// Per-step scratch is kept per thread between calls of the same (l, n) (each worker has its own
// copy of this module, and a thread runs one range at a time), and every call rewrites what it
// reads of it.

/** The per-step rows of a pair that the forward and the gradient both fill before a scan. */
class PairRows {
  readonly dts0: Float64Array; // δ_t after bias and softplus: (l)
  readonly dts1: Float64Array;
  readonly sig0: Float64Array; // sigmoid(z_t): (l)
  readonly sig1: Float64Array;
  constructor(
    readonly l: number,
    readonly n: number,
  ) {
    this.dts0 = new Float64Array(l);
    this.dts1 = new Float64Array(l);
    this.sig0 = new Float64Array(l);
    this.sig1 = new Float64Array(l);
  }
}

/** This thread's scratch of the last call if it has the same (l, n), else a new one. */
function reuse<T extends PairRows>(last: T | null, l: number, n: number, make: new (l: number, n: number) => T): T {
  return last && last.l === l && last.n === n ? last : new make(l, n);
}

/** One thread's forward scratch. */
class ForwardScratch extends PairRows {
  readonly BC: Float64Array; // B_t and C_t of one batch row, side by side: (l, 2n)
  readonly P: Float64Array; // per pair: A rows, states: 2n each
  constructor(l: number, n: number) {
    super(l, n);
    this.BC = new Float64Array(l * 2 * n);
    this.P = new Float64Array(4 * n);
  }
}

let forwardScratch: ForwardScratch | null = null;

/** The inputs and sizes of one call, forward or gradient: (b, d, l) channels of n states. */
class ScanInputs {
  readonly b: number;
  readonly d: number;
  readonly l: number;
  readonly n: number;
  readonly soft: boolean;
  readonly hasZ: boolean;
  readonly u: Float32Array;
  readonly delta: Float32Array;
  readonly A: Float32Array;
  readonly B: Float32Array;
  readonly C: Float32Array;
  readonly D: Float32Array;
  readonly z: Float32Array;
  readonly bias: Float32Array;
  constructor({ shapes, ins, attrs }: HostKernelBuffers) {
    const { b, d, l, n } = sizesOf(shapes);
    this.b = b;
    this.d = d;
    this.l = l;
    this.n = n;
    this.soft = attrs.deltaSoftplus === true;
    this.hasZ = attrs.hasZ === true;
    [this.u, this.delta, this.A, this.B, this.C, this.D, this.z, this.bias] = ins;
  }
}

/** Inputs, outputs and this thread's scratch for the units of one forward call. */
class ForwardCall extends ScanInputs {
  readonly y: Float32Array; // (b, d, l)
  readonly last: Float32Array; // (b, d, n)
  readonly scratch: ForwardScratch;
  constructor(buffers: HostKernelBuffers) {
    super(buffers);
    [this.y, this.last] = buffers.outs;
    this.scratch = forwardScratch = reuse(forwardScratch, this.l, this.n, ForwardScratch);
  }
}

/** B and C of batch row bi into BC. */
function loadBC(c: ForwardCall, bi: number): void {
  const { l, n, B, C } = c;
  const { BC } = c.scratch;
  const base = bi * n * l;
  for (let t = 0; t < l; t++) {
    const r = t * 2 * n;
    for (let k = 0; k < n; k++) {
      BC[r + k] = B[base + k * l + t];
      BC[r + n + k] = C[base + k * l + t];
    }
  }
}

function forwardPair(c: ForwardCall, bi: number, d0: number, d1: number): void {
  const { d, l, n, soft, hasZ, u, delta, A, D, z, bias, y, last } = c;
  const { BC, P, dts0, dts1, sig0, sig1 } = c.scratch;
  const base0 = (bi * d + d0) * l,
    base1 = (bi * d + d1) * l;
  // P: A rows at 0 and n, states at 2n and 3n.
  const pA1 = n,
    pH0 = 2 * n,
    pH1 = 3 * n;
  const [lo0, hi0] = loadRow(A, d0, n, P, 0);
  const [lo1, hi1] = loadRow(A, d1, n, P, pA1);
  const D0 = D[d0],
    D1 = D[d1];
  deltaRow(delta, base0, l, bias[d0], soft, dts0);
  deltaRow(delta, base1, l, bias[d1], soft, dts1);
  if (hasZ) {
    sigmoidRow(z, base0, l, sig0);
    sigmoidRow(z, base1, l, sig1);
  }
  for (let k = 0; k < 2 * n; k++) P[pH0 + k] = 0;
  for (let t = 0; t < l; t++) {
    const dt0 = dts0[t],
      dt1 = dts1[t];
    const u0 = u[base0 + t],
      u1 = u[base1 + t];
    const x0 = dt0 * u0,
      x1 = dt1 * u1;
    const r = t * 2 * n,
      rc = r + n;
    let acc0 = 0,
      acc1 = 0;
    if (inTable(dt0, lo0, hi0) && inTable(dt1, lo1, hi1)) {
      for (let k = 0; k < n; k++) {
        const bk = BC[r + k],
          ck = BC[rc + k];
        const h0 = expInRange(dt0 * P[k]) * P[pH0 + k] + x0 * bk;
        const h1 = expInRange(dt1 * P[pA1 + k]) * P[pH1 + k] + x1 * bk;
        P[pH0 + k] = h0;
        P[pH1 + k] = h1;
        acc0 += ck * h0;
        acc1 += ck * h1;
      }
    } else {
      for (let k = 0; k < n; k++) {
        const bk = BC[r + k],
          ck = BC[rc + k];
        const h0 = Math.exp(dt0 * P[k]) * P[pH0 + k] + x0 * bk;
        const h1 = Math.exp(dt1 * P[pA1 + k]) * P[pH1 + k] + x1 * bk;
        P[pH0 + k] = h0;
        P[pH1 + k] = h1;
        acc0 += ck * h0;
        acc1 += ck * h1;
      }
    }
    acc0 += D0 * u0;
    acc1 += D1 * u1;
    if (hasZ) {
      acc0 *= z[base0 + t] * sig0[t]; // silu(z)
      acc1 *= z[base1 + t] * sig1[t];
    }
    y[base0 + t] = acc0;
    y[base1 + t] = acc1;
  }
  const lb0 = (bi * d + d0) * n,
    lb1 = (bi * d + d1) * n;
  for (let k = 0; k < n; k++) {
    last[lb0 + k] = P[pH0 + k];
    last[lb1 + k] = P[pH1 + k];
  }
}

/** Forward units [from, to): unit i is pair i mod pairs of batch row ⌊i / pairs⌋. Consecutive
 * units share a batch row, whose B and C are transposed once per range (an exact copy, so the
 * result does not depend on where ranges start). */
function forwardUnits(buffers: HostKernelBuffers, from: number, to: number): void {
  const c = new ForwardCall(buffers);
  const pairs = pairsOf(c.d);
  let loaded = -1;
  for (let i = from; i < to; i++) {
    const bi = Math.floor(i / pairs),
      d0 = 2 * (i - bi * pairs);
    if (bi !== loaded) {
      loadBC(c, bi);
      loaded = bi;
    }
    forwardPair(c, bi, d0, Math.min(d0 + 1, c.d - 1));
  }
}

// Slots of one step's row in the gradient scratch S, in units of n: the pair's decays and states,
// then B, C and the gradients of B and C of the batch row. Keeping a step's data side by side in
// one array lets the loops address everything from one base index.
const E0 = 0,
  E1 = 1,
  H0 = 2,
  H1 = 3,
  BS = 4,
  CS = 5,
  DB = 6,
  DC = 7,
  SLOTS = 8;

/** One thread's gradient scratch. */
class GradScratch extends PairRows {
  // Row t + 1 holds step t: [exp(δ_t A) and h_t of both channels | B_t | C_t | dB_t | dC_t], each
  // n wide; row 0 holds h_{−1} = 0 so that step 0 needs no special case: ((l + 1), 8n).
  readonly S: Float64Array;
  // Per pair: A rows (2n), then ∂loss/∂h_t of each channel (n each), then their shares of dA.
  readonly P: Float64Array;
  readonly dsp0: Float64Array; // dδ_t/d(raw δ_t): sigmoid with softplus, else 1: (l)
  readonly dsp1: Float64Array;
  constructor(l: number, n: number) {
    super(l, n);
    this.S = new Float64Array((l + 1) * SLOTS * n);
    this.P = new Float64Array(6 * n);
    this.dsp0 = new Float64Array(l);
    this.dsp1 = new Float64Array(l);
  }
}

let gradScratch: GradScratch | null = null;

/** Inputs, outputs and this thread's scratch for the units of one gradient call. */
class GradCall extends ScanInputs {
  readonly gy: Float32Array; // (b, d, l)
  readonly gLast: Float32Array; // (b, d, n)
  readonly du: Float32Array; // (b, d, l)
  readonly dDelta: Float32Array; // (b, d, l)
  readonly dB: Float32Array; // (b, n, l)
  readonly dC: Float32Array; // (b, n, l)
  readonly dz: Float32Array; // (b, d, l), or z's one-element placeholder
  /** Each batch row's shares of dA, dD and d deltaBias: (b, d, n + 2). */
  readonly shares: Float64Array;
  readonly scratch: GradScratch;
  constructor(buffers: HostKernelBuffers) {
    super(buffers);
    const { ins, outs, scratch } = buffers;
    [this.gy, this.gLast] = ins.slice(SCAN_INPUTS.length);
    // outputs in the order of SCAN_INPUTS: du, dDelta, dA, dB, dC, dD, dz, dBias
    this.du = outs[0];
    this.dDelta = outs[1];
    this.dB = outs[3];
    this.dC = outs[4];
    this.dz = outs[6];
    this.shares = scratch[0];
    this.scratch = gradScratch = reuse(gradScratch, this.l, this.n, GradScratch);
  }
}

/** Starts batch row bi: h_{−1} = 0, B and C into their slots of S, dB and dC slots zeroed. */
function startRow(c: GradCall, bi: number): void {
  const { l, n, B, C } = c;
  const { S } = c.scratch;
  const W = SLOTS * n,
    base = bi * n * l;
  S.fill(0, 0, W);
  for (let t = 0; t < l; t++) {
    const r = (t + 1) * W;
    for (let k = 0; k < n; k++) {
      S[r + BS * n + k] = B[base + k * l + t];
      S[r + CS * n + k] = C[base + k * l + t];
      S[r + DB * n + k] = 0;
      S[r + DC * n + k] = 0;
    }
  }
}

/** Ends batch row bi: dB and dC from their slots of S into the (b, n, l) outputs. */
function endRow(c: GradCall, bi: number): void {
  const { l, n, dB, dC } = c;
  const { S } = c.scratch;
  const W = SLOTS * n,
    base = bi * n * l;
  for (let t = 0; t < l; t++) {
    const r = (t + 1) * W;
    for (let k = 0; k < n; k++) {
      dB[base + k * l + t] = S[r + DB * n + k];
      dC[base + k * l + t] = S[r + DC * n + k];
    }
  }
}

/** Replays the forward pass of a pair, keeping δ, decays and states. */
function replayPair(c: GradCall, bi: number, d0: number, d1: number): void {
  const { d, l, n, soft, hasZ, u, delta, A, z, bias } = c;
  const { S, P, dts0, dts1, dsp0, dsp1, sig0, sig1 } = c.scratch;
  const W = SLOTS * n;
  const base0 = (bi * d + d0) * l,
    base1 = (bi * d + d1) * l;
  const [lo0, hi0] = loadRow(A, d0, n, P, 0);
  const [lo1, hi1] = loadRow(A, d1, n, P, n);
  deltaRow(delta, base0, l, bias[d0], soft, dts0, dsp0);
  deltaRow(delta, base1, l, bias[d1], soft, dts1, dsp1);
  if (hasZ) {
    sigmoidRow(z, base0, l, sig0);
    sigmoidRow(z, base1, l, sig1);
  }
  const oE1 = E1 * n,
    oH0 = H0 * n,
    oH1 = H1 * n,
    oB = BS * n;
  for (let t = 0; t < l; t++) {
    const dt0 = dts0[t],
      dt1 = dts1[t];
    const r = (t + 1) * W;
    const x0 = dt0 * u[base0 + t],
      x1 = dt1 * u[base1 + t];
    const fast = inTable(dt0, lo0, hi0) && inTable(dt1, lo1, hi1);
    for (let k = 0; k < n; k++) {
      const i = r + k,
        p = i - W; // step t and step t − 1
      const e0 = fast ? expInRange(dt0 * P[k]) : Math.exp(dt0 * P[k]);
      const e1 = fast ? expInRange(dt1 * P[n + k]) : Math.exp(dt1 * P[n + k]);
      const bk = S[i + oB];
      S[i + E0 * n] = e0;
      S[i + oE1] = e1;
      S[i + oH0] = e0 * S[p + oH0] + x0 * bk;
      S[i + oH1] = e1 * S[p + oH1] + x1 * bk;
    }
  }
}

/** The reverse scan of a pair, seeded with the gradient of the last state; writes the pair's
 * shares of dA, dD and d deltaBias for batch row bi. */
function reversePair(c: GradCall, bi: number, d0: number, d1: number): void {
  const { d, l, n, hasZ, u, D, z, gy, gLast, du, dDelta, dz, shares } = c;
  const { S, P, dts0, dts1, dsp0, dsp1, sig0, sig1 } = c.scratch;
  const W = SLOTS * n;
  const twin = d1 === d0;
  const base0 = (bi * d + d0) * l,
    base1 = (bi * d + d1) * l;
  const D0 = D[d0],
    D1 = D[d1];
  const lb0 = (bi * d + d0) * n,
    lb1 = (bi * d + d1) * n;
  // P: A rows at 0 and n (from the replay), ∂loss/∂h at 2n and 3n, dA shares at 4n and 5n.
  const pA1 = n,
    pG0 = 2 * n,
    pG1 = 3 * n,
    pD0 = 4 * n,
    pD1 = 5 * n;
  for (let k = 0; k < n; k++) {
    P[pG0 + k] = gLast[lb0 + k];
    P[pG1 + k] = twin ? 0 : gLast[lb1 + k];
    P[pD0 + k] = 0;
    P[pD1 + k] = 0;
  }
  const oE1 = E1 * n,
    oH0 = H0 * n,
    oH1 = H1 * n,
    oB = BS * n,
    oC = CS * n,
    odB = DB * n,
    odC = DC * n;
  let dD0 = 0,
    dD1 = 0,
    dBias0 = 0,
    dBias1 = 0;
  for (let t = l - 1; t >= 0; t--) {
    const gy0 = gy[base0 + t],
      gy1 = twin ? 0 : gy[base1 + t];
    let g0 = gy0,
      g1 = gy1,
      s0 = 0,
      s1 = 0; // g: gradient of y before the gate
    const z0 = hasZ ? z[base0 + t] : 0,
      z1 = hasZ ? z[base1 + t] : 0;
    if (hasZ) {
      s0 = sig0[t];
      s1 = sig1[t];
      g0 *= z0 * s0;
      g1 *= z1 * s1;
    }
    const u0 = u[base0 + t],
      u1 = u[base1 + t];
    const dt0 = dts0[t],
      dt1 = dts1[t];
    const x0 = dt0 * u0,
      x1 = dt1 * u1;
    const r = (t + 1) * W;
    let y0 = 0,
      y1 = 0,
      sumA0 = 0,
      sumA1 = 0,
      sumB0 = 0,
      sumB1 = 0;
    for (let k = 0; k < n; k++) {
      const i = r + k;
      const ck = S[i + oC],
        bk = S[i + oB];
      const g0k = P[pG0 + k] + g0 * ck,
        g1k = P[pG1 + k] + g1 * ck; // ∂loss/∂h_t, now with y_t
      const h0 = S[i + oH0],
        h1 = S[i + oH1];
      y0 += ck * h0;
      y1 += ck * h1;
      S[i + odC] += g0 * h0 + g1 * h1;
      // q = ∂loss/∂h_t · exp(δA) h_{t−1}, shared by the gradients of A and δ; exp(δA) h_{t−1}
      // is h_t − δ u B, which saves reading the previous row.
      const q0 = g0k * (h0 - x0 * bk),
        q1 = g1k * (h1 - x1 * bk);
      sumA0 += P[k] * q0;
      sumA1 += P[pA1 + k] * q1;
      P[pD0 + k] += dt0 * q0;
      P[pD1 + k] += dt1 * q1;
      S[i + odB] += g0k * x0 + g1k * x1;
      sumB0 += g0k * bk;
      sumB1 += g1k * bk;
      P[pG0 + k] = g0k * S[i + E0 * n];
      P[pG1 + k] = g1k * S[i + oE1];
    }
    const i0 = base0 + t,
      i1 = base1 + t;
    if (hasZ) {
      // silu'(z) = σ(z)(1 + z(1 − σ(z)))
      dz[i1] = gy1 * (y1 + D1 * u1) * s1 * (1 + z1 * (1 - s1));
      dz[i0] = gy0 * (y0 + D0 * u0) * s0 * (1 + z0 * (1 - s0));
    }
    du[i1] = g1 * D1 + dt1 * sumB1;
    du[i0] = g0 * D0 + dt0 * sumB0;
    const dd0 = (sumA0 + u0 * sumB0) * dsp0[t],
      dd1 = (sumA1 + u1 * sumB1) * dsp1[t];
    dDelta[i1] = dd1;
    dDelta[i0] = dd0;
    dD0 += g0 * u0;
    dD1 += g1 * u1;
    dBias0 += dd0;
    dBias1 += dd1;
  }
  // shares (b, d, n + 2): [dA row | dD | d deltaBias] of a channel in batch row bi; the twin's
  // (all zero) are written first, so that the real channel's overwrite them
  const w = n + 2,
    s0 = (bi * d + d0) * w,
    s1 = (bi * d + d1) * w;
  for (let k = 0; k < n; k++) shares[s1 + k] = P[pD1 + k];
  shares[s1 + n] = dD1;
  shares[s1 + n + 1] = dBias1;
  for (let k = 0; k < n; k++) shares[s0 + k] = P[pD0 + k];
  shares[s0 + n] = dD0;
  shares[s0 + n + 1] = dBias0;
}

/** Phase 0 of the gradient: batch rows [from, to), every pair of channels of each. */
function gradRows(buffers: HostKernelBuffers, from: number, to: number): void {
  const c = new GradCall(buffers);
  for (let bi = from; bi < to; bi++) {
    startRow(c, bi);
    for (let d0 = 0; d0 < c.d; d0 += 2) {
      const d1 = Math.min(d0 + 1, c.d - 1);
      replayPair(c, bi, d0, d1);
      reversePair(c, bi, d0, d1);
    }
    endRow(c, bi);
  }
}

/** Phase 1 of the gradient: channels [from, to) of dA (d, n), dD (d) and d deltaBias (d), each
 * the sum of the batch rows' shares in order of b. Unit 0 also zeroes dz's placeholder when there
 * is no gate. */
function gradChannels({ shapes, outs, scratch, attrs }: HostKernelBuffers, from: number, to: number): void {
  const { b, d, n } = sizesOf(shapes);
  const [, , dA, , , dD, dz, dBias] = outs;
  const shares = scratch[0],
    w = n + 2;
  for (let ch = from; ch < to; ch++) {
    for (let k = 0; k < w; k++) {
      let sum = 0;
      for (let bi = 0; bi < b; bi++) sum += shares[(bi * d + ch) * w + k];
      if (k < n) dA[ch * n + k] = sum;
      else if (k === n) dD[ch] = sum;
      else dBias[ch] = sum;
    }
  }
  if (from === 0 && attrs.hasZ !== true) dz.fill(0);
}

/** The forward kernel: y (b, d, l) and the last state (b, d, n); one unit per pair of channels. */
export const SCAN_HOST: HostKernelSpec = {
  name: SCAN_KERNEL,
  inputs: SCAN_INPUTS,
  plan: (shapes) => {
    const { b, d, l, n } = sizesOf(shapes);
    return {
      outputs: [
        [b, d, l],
        [b, d, n],
      ],
      phases: [b * pairsOf(d)],
    };
  },
  run: (_phase, buffers, from, to) => forwardUnits(buffers, from, to),
};

/**
 * The gradient kernel: the gradients of Σ dy·y + Σ dLast·lastState with respect to u, delta
 * (raw, before bias and softplus), A, B, C, D, z and deltaBias, in that order. Phase 0 has one
 * unit per batch row, phase 1 one per channel.
 */
export const SCAN_GRAD_HOST: HostKernelSpec = {
  name: SCAN_GRAD_KERNEL,
  inputs: SCAN_GRAD_INPUTS,
  plan: (shapes) => {
    const { b, d, l, n } = sizesOf(shapes);
    return {
      outputs: [[b, d, l], [b, d, l], [d, n], [b, n, l], [b, n, l], [d], shapes[6], [d]],
      scratch: [b * d * (n + 2)],
      phases: [b, d],
    };
  },
  run: (phase, buffers, from, to) => (phase === 0 ? gradRows(buffers, from, to) : gradChannels(buffers, from, to)),
};
