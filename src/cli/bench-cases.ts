/**
 * The standard cases of `npm run bench`: each op at the sizes of the Annotated S4 MNIST runs and
 * of a small Mamba block, with its fast path (the library op) and its reference (the same math in
 * plain tf ops), and the sizes the PyTorch peer (bench/torch_peer.py) times it at.
 */
import * as tf from "@tensorflow/tfjs";
import * as lib from "../index";
import { BackendName } from "../backend";
import { mulberry32 } from "../random";
import { hippoModes } from "../nn/s4-layer";

export const OPS = ["s4_layer", "causal_conv", "selective_scan", "depthwise_conv1d", "mamba_block"] as const;
export type OpName = (typeof OPS)[number];

/** A differentiable function of the inputs; the loss is Σ y·r. */
export type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

export interface Prepared {
  /** The tensors the gradients are taken with respect to. */
  inputs: tf.Tensor[];
  /** Loss weights, the shape of y. */
  r: tf.Tensor;
  fast: Fn;
  reference: Fn;
  /** Tensors to dispose besides inputs and r. */
  extra: tf.Tensor[];
}

export interface Where {
  /** The fastest backend here that runs on the CPU. */
  fastestCpu: BackendName | null;
  /** Whether the WebGPU adapter is a real GPU (not a software rasterizer such as lavapipe). */
  realGpu: boolean;
}

export interface Case {
  /** Unique name of the case (an op can have several sizes). */
  key: string;
  op: OpName;
  shape: string;
  /** What the reference is, for the printed notes. */
  referenceName: string;
  /** Timed with the plan for slow cases (planFor): a single forward + backward takes seconds. */
  large: boolean;
  /** Why this case does not run on `backend`, or null when it does. */
  skip: (backend: BackendName, where: Where) => string | null;
  /** Creates the inputs on the active backend. */
  prepare: () => Prepared;
  /** The sizes of this case in bench/torch_peer.py's names (its --dims), for the PyTorch peer. */
  peerDims: Record<string, number>;
  /** The reference is another kernel of this library (its process keeps the kernels on). */
  referenceIsKernel?: boolean;
}

/** Uniform-sum pseudo-normal values (mulberry32), the same on every run. */
function randn(n: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * 2 * (next() + next() + next() - 1.5));
}

/** Uniform values in [lo, hi) from the same generator. */
const uniform = (n: number, seed: number, lo: number, hi: number) =>
  Float32Array.from(randn(n, seed), (x) => lo + (hi - lo) * (x / 6 + 0.5));

/**
 * The S4 convolution path: the DPLR kernel (h, l) from HiPPO parameters (h, n) tiled over the
 * channels, C̃ random, a step per channel; then y = K ⊛ u + D·u for u (b, h, l).
 * Gradients with respect to u, Λ, P (= Q), B, C̃, log Δ and D. With conjugate pairs the
 * parameters are the n/2 modes of positive frequency (h, n/2), as the official S4 (and the
 * PyTorch peer) stores them; the reference is the same system with the conjugates appended.
 */
function s4Case(b: number, h: number, n: number, l: number, large: boolean, conjugatePairs = false): Case {
  return {
    key: large ? "s4_layer_full" : conjugatePairs ? "s4_layer_pairs" : "s4_layer",
    op: "s4_layer",
    shape: `b=${b} h=${h} n=${n} l=${l}${large ? " (full layer)" : ""}${conjugatePairs ? " (conjugate pairs)" : ""}`,
    referenceName: "kGenDPLR in tf ops + matmulIrdft + matmulCausalConv",
    large,
    peerDims: { b, h, n, l, pairs: conjugatePairs ? 1 : 0 },
    skip: large
      ? (backend, where) => {
          if (backend === "webgpu") return where.realGpu ? null : "the full layer is skipped on a software WebGPU adapter";
          if (backend === "tensorflow-gpu") return null;
          return backend === where.fastestCpu
            ? null
            : `the full layer runs only on the fastest CPU backend (${where.fastestCpu ?? "none"}) and on a real GPU`;
        }
      : () => null,
    prepare: () => {
      const hippo = hippoModes(n, conjugatePairs); // Λ, P, B: (m) complex, float64
      const m = hippo.Lambda.re.length; // modes stored: n, or n/2 with conjugate pairs
      const tile = (v: Float64Array) => {
        const out = new Float32Array(h * m);
        for (let i = 0; i < h; i++) out.set(v, i * m);
        return tf.tensor2d(out, [h, m]);
      };
      const inputs = [
        tf.tensor3d(randn(b * h * l, 1), [b, h, l]), // u (b, h, l)
        tile(hippo.Lambda.re),
        tile(hippo.Lambda.im), // Λ (h, m)
        tile(hippo.P.re),
        tile(hippo.P.im), // P = Q (h, m)
        tile(hippo.B.re),
        tile(hippo.B.im), // B (h, m)
        tf.tensor2d(randn(h * m, 2, 0.5), [h, m]),
        tf.tensor2d(randn(h * m, 3, 0.5), [h, m]), // C̃ (h, m)
        tf.tensor1d(uniform(h, 4, Math.log(1e-3), Math.log(1e-1))), // log Δ (h)
        tf.tensor1d(randn(h, 5)), // D (h)
      ];
      const omega = lib.rootsOfUnity(l);
      const roots = { re: tf.tensor1d(Float32Array.from(omega.re)), im: tf.tensor1d(Float32Array.from(omega.im)) }; // (l) complex
      const params = (
        lr: tf.Tensor,
        li: tf.Tensor,
        pr: tf.Tensor,
        pi: tf.Tensor,
        br: tf.Tensor,
        bi: tf.Tensor,
        cr: tf.Tensor,
        ci: tf.Tensor,
      ): lib.DPLRParams => {
        const P = { re: pr, im: pi };
        return { Lambda: { re: lr, im: li }, P, Q: P, B: { re: br, im: bi }, C: { re: cr, im: ci } };
      };
      const skipTerm = (u: tf.Tensor, D: tf.Tensor) => tf.mul(u, tf.reshape(D, [h, 1])); // D·u (b, h, l)
      return {
        inputs,
        r: tf.tensor3d(randn(b * h * l, 6), [b, h, l]),
        extra: [roots.re, roots.im],
        fast: (u, lr, li, pr, pi, br, bi, cr, ci, logStep, D) => {
          const K = lib.kernelDPLR(params(lr, li, pr, pi, br, bi, cr, ci), tf.exp(logStep), l, undefined, { conjugatePairs }); // (h, l)
          return tf.add(lib.causalConvolution(u, K), skipTerm(u, D));
        },
        // Run with the hand-written kernels switched off, so kGenDPLR's Cauchy sums are tf ops too.
        reference: (u, lr, li, pr, pi, br, bi, cr, ci, logStep, D) => {
          const p = params(lr, li, pr, pi, br, bi, cr, ci);
          const atRoots = lib.kGenDPLR(conjugatePairs ? lib.withConjugates(p) : p, tf.exp(logStep))(roots); // (h, l) complex
          const K = lib.kernels.matmulIrdft(atRoots.re, atRoots.im); // (h, l)
          return tf.add(lib.kernels.matmulCausalConv(u, K), skipTerm(u, D));
        },
      };
    },
  };
}

const causalConvCase = (b: number, h: number, l: number): Case => ({
  key: "causal_conv",
  op: "causal_conv",
  shape: `b=${b} h=${h} l=${l}`,
  referenceName: "matmulCausalConv (zero-padded DFT as matmuls)",
  large: false,
  peerDims: { b, h, l },
  skip: () => null,
  prepare: () => ({
    inputs: [tf.tensor3d(randn(b * h * l, 21), [b, h, l]), tf.tensor2d(randn(h * l, 22, 0.05), [h, l])], // u (b, h, l), k (h, l)
    r: tf.tensor3d(randn(b * h * l, 23), [b, h, l]),
    extra: [],
    fast: (u, k) => lib.causalConvolution(u, k),
    reference: (u, k) => lib.kernels.matmulCausalConv(u, k),
  }),
});

type ScanFn = typeof lib.kernels.selectiveScan;

/**
 * Mamba's scan with D, z, a delta bias and softplus; gradients with respect to all eight tensors.
 * `twins`: the fast side is the chunked WebGPU scan and the reference its sequential twin (both
 * selectiveScan), instead of selectiveScan against the tf-ops selectiveScanReference.
 */
const selectiveScanCase = (b: number, d: number, n: number, l: number, twins = false): Case => ({
  key: "selective_scan",
  op: "selective_scan",
  shape: `b=${b} d=${d} n=${n} l=${l}`,
  referenceName: "selectiveScanReference",
  large: false,
  peerDims: { b, d, n, l },
  skip: () => null,
  prepare: () => {
    const fast = lib.kernels.selectiveScan,
      reference = lib.kernels.selectiveScanReference;
    const A = Float32Array.from({ length: d * n }, (_, i) => -(1 + (i % n))); // S4D-real: A[c, j] = −(j + 1)
    const deltaBias = Float32Array.from(uniform(d, 36, 1e-3, 1e-1), (dt) => Math.log(Math.expm1(dt))); // softplus⁻¹ of Δ
    const inputs = [
      tf.tensor3d(randn(b * d * l, 31), [b, d, l]), // u (b, d, l)
      tf.tensor3d(randn(b * d * l, 32, 0.1), [b, d, l]), // delta (b, d, l), before bias and softplus
      tf.tensor2d(A, [d, n]), // A (d, n)
      tf.tensor3d(randn(b * n * l, 33), [b, n, l]), // B (b, n, l)
      tf.tensor3d(randn(b * n * l, 34), [b, n, l]), // C (b, n, l)
      tf.tensor1d(randn(d, 35)), // D (d)
      tf.tensor3d(randn(b * d * l, 37), [b, d, l]), // z (b, d, l)
      tf.tensor1d(deltaBias), // deltaBias (d)
    ];
    const call =
      (f: ScanFn, extra: Record<string, unknown>): Fn =>
      (u, delta, A, B, C, D, z, bias) => {
        const { y, lastState } = f(u, delta, A, B, C, { D, z, deltaBias: bias, deltaSoftplus: true, ...extra });
        lastState.dispose();
        return y;
      };
    const r = tf.tensor3d(randn(b * d * l, 38), [b, d, l]);
    return twins
      ? { inputs, r, extra: [], fast: call(fast, { scan: "chunked" }), reference: call(fast, { scan: "sequential" }) }
      : { inputs, r, extra: [], fast: call(fast, {}), reference: call(reference, {}) };
  },
});

/**
 * The WebGPU selective scan parallel in time (chunked, the default) against its sequential twin,
 * on the inputs of selectiveScanCase. `gpuOnly`: too large for a software adapter.
 */
function webgpuScanCase(key: string, b: number, d: number, n: number, l: number, large: boolean, gpuOnly: boolean): Case {
  const base = selectiveScanCase(b, d, n, l, true);
  return {
    ...base,
    key,
    shape: `${base.shape} (WebGPU chunked vs sequential)`,
    referenceName: 'the sequential WGSL twin (selectiveScan with scan: "sequential")',
    referenceIsKernel: true,
    large,
    skip: (backend, where) => {
      if (backend !== "webgpu") return "it compares the two WebGPU kernels";
      if (gpuOnly && !where.realGpu) return "this shape runs only on a real GPU, not on a software adapter";
      return base.skip(backend, where);
    },
  };
}

const depthwiseCase = (b: number, d: number, l: number, k: number): Case => ({
  key: "depthwise_conv1d",
  op: "depthwise_conv1d",
  shape: `b=${b} d=${d} l=${l} k=${k}`,
  referenceName: "causalDepthwiseConv1dReference (pad + shifted slices)",
  large: false,
  peerDims: { b, d, l, k },
  skip: () => null,
  prepare: () => ({
    inputs: [tf.tensor3d(randn(b * d * l, 41), [b, d, l]), tf.tensor2d(randn(d * k, 42), [d, k]), tf.tensor1d(randn(d, 43))], // x, w, bias
    r: tf.tensor3d(randn(b * d * l, 44), [b, d, l]),
    extra: [],
    fast: (x, w, bias) => lib.kernels.causalDepthwiseConv1d(x, w, bias),
    reference: (x, w, bias) => lib.kernels.causalDepthwiseConv1dReference(x, w, bias),
  }),
});

/**
 * The Mamba block (in_proj, causal depthwise conv, SiLU, x_proj, dt_proj, selective scan, gate,
 * out_proj) on x (b, l, d_model); gradients with respect to x and every parameter. The reference
 * is the same block in the process that switches the hand-written kernels off, where the scan and
 * the convolution take their tf-ops paths.
 */
const mambaBlockCase = (b: number, l: number, dModel: number, expand: number, n: number, dConv: number): Case => ({
  key: "mamba_block",
  op: "mamba_block",
  shape: `b=${b} l=${l} d_model=${dModel} d_inner=${expand * dModel} n=${n} d_conv=${dConv}`,
  referenceName: "the same block with the hand-written kernels off (selectiveScanReference, causalDepthwiseConv1dReference)",
  large: false,
  peerDims: { b, l, d_model: dModel, expand, n, d_conv: dConv },
  skip: () => null,
  prepare: () => {
    const block = new lib.nn.MambaBlock({ dModel, expand, n, dConv, seed: 0 });
    const params = Object.values(block.parameters()); // the block's variables, disposed with the inputs
    // The block reads its own variables; passing them as inputs makes tf.grads differentiate them.
    const forward: Fn = (x) => block.forward(x); // (b, l, d_model) → (b, l, d_model)
    return {
      inputs: [tf.tensor3d(randn(b * l * dModel, 51), [b, l, dModel]), ...params],
      r: tf.tensor3d(randn(b * l * dModel, 52), [b, l, dModel]),
      extra: [],
      fast: forward,
      reference: forward,
    };
  },
});

export const CASES: Case[] = [
  s4Case(16, 64, 64, 784, false),
  s4Case(16, 64, 64, 784, false, true),
  s4Case(128, 128, 64, 784, true),
  causalConvCase(16, 64, 784),
  selectiveScanCase(16, 64, 16, 784),
  // The WebGPU scans: the shape above; the training shape of configs/mamba-classification.json
  // (batch 128, d_inner 240); a long sequence at the width of a large Mamba (d_inner 1536).
  webgpuScanCase("selective_scan_webgpu", 16, 64, 16, 784, false, false),
  webgpuScanCase("selective_scan_webgpu_train", 128, 240, 16, 784, true, true),
  webgpuScanCase("selective_scan_webgpu_long", 1, 1536, 16, 16384, true, false),
  depthwiseCase(16, 128, 784, 4),
  mambaBlockCase(16, 784, 32, 2, 16, 4),
];
