// The fused AdamW update: one kernel per parameter equals the tf-ops reference and float64 hand
// math on cpu, wasm and webgpu (groups, clipping, skipped steps, state round trips), leaks nothing,
// costs one tfjs kernel per parameter and, on WebGPU, two programs per parameter and no uploads.
const { forEachBackend, describeWebGPU, assertClose, adamwReferenceStep, randn, tf, lib, assert } = require("./helpers");
const { countDeviceTraffic } = require("../dist/train/step-counters");

const { AdamW, s4ParamGroups } = lib.train;
const { adamwUpdate, adamwUpdateReference, hasFusedAdamW } = lib.kernels;

/** True when this process registers no hand-written kernels (S4_KERNELS=reference): the kernel
 * checks are skipped, the math checks then test the tf-ops path. */
const kernelsOff = () => lib.kernels.kernelMode?.() === "reference";

const f32 = (a) => Array.from(Float32Array.from(a));
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const values = async (t) => Array.from(await t.data());

/** Parameters of a few shapes (a scalar among them) in three groups: SSM (lr × 0.1, no decay),
 * norm (lr × 0.5, decay 0.2) and the default (decay 0.05). */
const SHAPES = { "blocks.0.layer.Lambda_re": [2, 3], "blocks.0.norm.gamma": [4], "decoder.kernel": [3, 2], "decoder.bias": [] };
const CFG = {
  "blocks.0.layer.Lambda_re": { scale: 0.1, wd: 0 },
  "blocks.0.norm.gamma": { scale: 0.5, wd: 0.2 },
  "decoder.kernel": { scale: 1, wd: 0.05 },
  "decoder.bias": { scale: 1, wd: 0.05 },
};
function groups() {
  return [...s4ParamGroups({ ssmLrScale: 0.1 }), { name: "norm", match: (n) => n.endsWith(".gamma"), lr: 0.5, weightDecay: 0.2 }];
}
function makeParams(seed = 10) {
  /** @type {Record<string, number[]>} */
  const init = {};
  /** @type {Record<string, import("@tensorflow/tfjs").Variable>} */
  const params = {};
  Object.entries(SHAPES).forEach(([n, s], k) => {
    init[n] = f32(randn(size(s), seed + k));
    params[n] = tf.variable(tf.tensor(init[n], s));
  });
  return { init, params };
}
function makeGrads(step, mul = 1) {
  /** @type {Record<string, number[]>} */
  const arr = {};
  /** @type {Record<string, import("@tensorflow/tfjs").Tensor>} */
  const grads = {};
  Object.entries(SHAPES).forEach(([n, s], k) => {
    arr[n] = f32(randn(size(s), 100 * step + k).map((x) => mul * x));
    grads[n] = tf.tensor(arr[n], s);
  });
  return { arr, grads };
}

/** Runs fn with the kernels of the fused update removed from the active backend (as on a backend
 * that has none, e.g. tfjs-node), restoring them afterwards. */
async function withoutFusedKernel(fn) {
  const backend = tf.getBackend();
  const saved = ["AdamWUpdate", "AdamWUpdateScaled"].map((k) => tf.getKernel(k, backend));
  for (const k of saved) tf.unregisterKernel(k.kernelName, backend);
  try {
    assert.ok(!hasFusedAdamW(false) && !hasFusedAdamW(true));
    return await fn();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

function checks() {
  it("has the kernel here, and it equals the tf-ops reference (float32 tolerance)", async function () {
    if (kernelsOff()) this.skip();
    assert.ok(hasFusedAdamW(false) && hasFusedAdamW(true), `no fused AdamW kernel on ${tf.getBackend()}`);
    for (const [k, shape] of [[3, 4, 5], [7], []].entries()) {
      const n = size(shape);
      const p = tf.tensor(randn(n, 1 + k), shape),
        g = tf.tensor(randn(n, 2 + k), shape);
      const m = randn(n, 3 + k).map((x) => 0.1 * x),
        v = randn(n, 4 + k).map((x) => 0.01 * x * x);
      const mv = tf.tensor([...m, ...v], [2, ...shape]);
      const attrs = { lr: 0.03, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: k === 1 ? 0 : 0.1, bc1: 1 - 0.9 ** 3, bc2: 1 - 0.99 ** 3 };
      for (const s of [undefined, 0.5, 1, 3]) {
        const scale = s === undefined ? undefined : tf.scalar(s);
        const [pa, mva] = adamwUpdate(p, g, mv, attrs, scale);
        const [pb, mvb] = adamwUpdateReference(p, g, mv, attrs, scale);
        assert.deepEqual(pa.shape, shape);
        assert.deepEqual(mva.shape, [2, ...shape]);
        assertClose(await values(pa), await values(pb), 1e-6, 1e-5, `p, shape (${shape}), scale ${s}`);
        assertClose(await values(mva), await values(mvb), 1e-7, 1e-5, `mv, shape (${shape}), scale ${s}`);
        tf.dispose([scale, pa, mva, pb, mvb]);
      }
      // a scale ≤ 0 or not finite skips the update: both outputs equal the inputs exactly
      for (const s of [0, -1, NaN, Infinity, -Infinity]) {
        const scale = tf.scalar(s);
        const [pa, mva] = adamwUpdate(p, g, mv, attrs, scale);
        const [pb, mvb] = adamwUpdateReference(p, g, mv, attrs, scale);
        for (const [got, want, what] of [
          [pa, p, "p"],
          [mva, mv, "mv"],
          [pb, p, "reference p"],
          [mvb, mv, "reference mv"],
        ]) {
          assert.deepEqual(await values(got), await values(want), `${what} changed with scale ${s}`);
        }
        tf.dispose([scale, pa, mva, pb, mvb]);
      }
      tf.dispose([p, g, mv]);
    }
  });

  it("AdamW matches float64 hand math over 4 steps with parameter groups (lr multipliers, wd 0 and > 0)", async () => {
    const { init, params } = makeParams();
    const opt = new AdamW(params, groups(), { weightDecay: 0.05 });
    const ref = {},
      st = {};
    for (const n of Object.keys(SHAPES)) {
      ref[n] = init[n].slice();
      st[n] = { m: ref[n].map(() => 0), v: ref[n].map(() => 0), t: 0 };
    }
    const lrs = [0.01, 0.03, 0.02, 0.005];
    for (let step = 0; step < lrs.length; step++) {
      const { arr, grads } = makeGrads(step);
      assert.equal(opt.step(grads, lrs[step]), undefined);
      tf.dispose(Object.values(grads));
      for (const n of Object.keys(SHAPES)) {
        ref[n] = adamwReferenceStep(ref[n], arr[n], st[n], { lr: lrs[step] * CFG[n].scale, wd: CFG[n].wd });
        assertClose(await values(params[n]), ref[n], 1e-6, 1e-5, `${n} after step ${step + 1}`);
      }
    }
    const state = opt.getState();
    assert.equal(state.step, 4);
    for (const n of Object.keys(SHAPES)) {
      assert.deepEqual(state.tensors[`m.${n}`].shape, SHAPES[n]);
      assertClose(await values(state.tensors[`m.${n}`]), st[n].m, 1e-7, 1e-5, `m.${n}`);
      assertClose(await values(state.tensors[`v.${n}`]), st[n].v, 1e-9, 1e-5, `v.${n}`);
    }
    tf.dispose(Object.values(state.tensors));
    opt.dispose();
    tf.dispose(Object.values(params));
  });

  it("clips on the device: a norm above clipNorm scales, one below does not, a non-finite one skips", async () => {
    const { init, params } = makeParams();
    const clipNorm = 1;
    const opt = new AdamW(params, groups(), { weightDecay: 0.05, clipNorm });
    const ref = {},
      st = {};
    for (const n of Object.keys(SHAPES)) {
      ref[n] = init[n].slice();
      st[n] = { m: ref[n].map(() => 0), v: ref[n].map(() => 0), t: 0 };
    }
    // gradients scaled by 5 have a norm far above 1, by 0.05 far below
    for (const [step, mul] of [
      [0, 5],
      [1, 0.05],
      [2, 5],
    ]) {
      const { arr, grads } = makeGrads(step, mul);
      const all = Object.values(arr).flat();
      const norm = Math.sqrt(all.reduce((a, x) => a + x * x, 0));
      assert.ok(mul > 1 ? norm > 2 * clipNorm : norm < clipNorm / 2, `step ${step}: norm ${norm}`);
      const got = opt.step(grads, 0.01);
      assertClose(await values(got), [norm], 1e-6, 1e-5, `returned norm, step ${step}`);
      tf.dispose([got, ...Object.values(grads)]);
      const s = clipNorm / Math.max(norm, clipNorm);
      for (const n of Object.keys(SHAPES)) {
        ref[n] = adamwReferenceStep(
          ref[n],
          arr[n].map((x) => x * s),
          st[n],
          { lr: 0.01 * CFG[n].scale, wd: CFG[n].wd },
        );
        assertClose(await values(params[n]), ref[n], 1e-6, 1e-5, `${n} after step ${step + 1}`);
      }
    }
    const before = {};
    for (const n of Object.keys(SHAPES)) before[n] = await values(params[n]);
    const stateBefore = opt.getState();
    for (const bad of [NaN, Infinity]) {
      const { grads } = makeGrads(7);
      const spoilt = tf.tensor([1, bad, 2, 3]);
      tf.dispose(grads["blocks.0.norm.gamma"]);
      grads["blocks.0.norm.gamma"] = spoilt;
      const norm = opt.step(grads, 0.01);
      const nv = (await values(norm))[0];
      assert.ok(!Number.isFinite(nv), `norm ${nv} reported for a gradient holding ${bad}`);
      tf.dispose([norm, ...Object.values(grads)]);
      const stateAfter = opt.getState();
      for (const n of Object.keys(SHAPES)) {
        assert.deepEqual(await values(params[n]), before[n], `${n} changed by a gradient holding ${bad}`);
        for (const k of [`m.${n}`, `v.${n}`]) {
          assert.deepEqual(
            await values(stateAfter.tensors[k]),
            await values(stateBefore.tensors[k]),
            `${k} changed by a gradient holding ${bad}`,
          );
        }
      }
      tf.dispose(Object.values(stateAfter.tensors));
    }
    tf.dispose(Object.values(stateBefore.tensors));
    opt.dispose();
    tf.dispose(Object.values(params));
  });

  it("getState/setState round trip (moments as separate m./v. tensors) gives identical later updates", async () => {
    const a = makeParams(),
      b = makeParams();
    const optA = new AdamW(a.params, groups(), { clipNorm: 2 }),
      optB = new AdamW(b.params, groups(), { clipNorm: 2 });
    for (let step = 0; step < 3; step++) {
      const { grads } = makeGrads(step);
      tf.dispose([optA.step(grads, 0.02), ...Object.values(grads)]);
    }
    const state = optA.getState();
    assert.deepEqual(
      Object.keys(state.tensors).sort(),
      Object.keys(SHAPES)
        .flatMap((n) => [`m.${n}`, `v.${n}`])
        .sort(),
    );
    // the state as a checkpoint stores it: separate tensors, copied into B together with A's parameters
    optB.setState(state);
    for (const n of Object.keys(SHAPES)) b.params[n].assign(a.params[n]);
    const back = optB.getState();
    for (const k of Object.keys(state.tensors)) assert.deepEqual(await values(back.tensors[k]), await values(state.tensors[k]), k);
    assert.equal(optB.iterations, 3);
    for (let step = 3; step < 6; step++) {
      const { grads } = makeGrads(step);
      tf.dispose([optA.step(grads, 0.01), optB.step(grads, 0.01), ...Object.values(grads)]);
    }
    for (const n of Object.keys(SHAPES)) assert.deepEqual(await values(b.params[n]), await values(a.params[n]), n);
    tf.dispose([...Object.values(state.tensors), ...Object.values(back.tensors), ...Object.values(a.params), ...Object.values(b.params)]);
    optA.dispose();
    optB.dispose();
  });

  it("leaks no tensors across steps, with and without clipping", () => {
    for (const clipNorm of [undefined, 0.5]) {
      const { params } = makeParams();
      const opt = new AdamW(params, groups(), { clipNorm });
      const { grads } = makeGrads(1);
      tf.dispose(opt.step(grads, 1e-3)); // the first step may make the optimizer's kept constants
      const before = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) tf.dispose(opt.step(grads, 1e-3 * (i + 1)));
      assert.equal(tf.memory().numTensors, before, `tensor count changed across steps (clipNorm ${clipNorm})`);
      opt.dispose();
      tf.dispose([...Object.values(params), ...Object.values(grads)]);
    }
  });

  it("costs one tfjs kernel per parameter (no clipping)", async function () {
    if (kernelsOff()) this.skip();
    const model = new lib.nn.StackedModel({
      task: "classification",
      layerKind: "s4",
      dModel: 8,
      nLayers: 2,
      n: 4,
      l: 16,
      numClasses: 3,
      seed: 0,
    });
    const params = model.parameters();
    const names = Object.keys(params);
    const opt = new AdamW(params, s4ParamGroups(), { weightDecay: 0.01 });
    const grads = Object.fromEntries(names.map((n, i) => [n, tf.tensor(randn(params[n].size, i), params[n].shape)]));
    tf.dispose(opt.step(grads, 1e-3));
    const info = await tf.profile(() => {
      opt.step(grads, 1e-3);
    });
    assert.equal(info.kernels.length, names.length, `kernels: ${info.kernels.map((k) => k.name).join(", ")}`);
    assert.ok(
      info.kernels.every((k) => k.name === "AdamWUpdate"),
      info.kernels.map((k) => k.name).join(", "),
    );
    opt.dispose();
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it("without the kernel (as on tfjs-node) the tf-ops path gives the same parameters and moments", async function () {
    if (kernelsOff()) this.skip();
    const a = makeParams(),
      b = makeParams();
    const fused = new AdamW(a.params, groups(), { weightDecay: 0.05, clipNorm: 1 });
    const plain = new AdamW(b.params, groups(), { weightDecay: 0.05, clipNorm: 1 });
    for (const [step, mul] of [
      [0, 5],
      [1, 0.05],
      [2, 1],
    ]) {
      const { grads } = makeGrads(step, mul);
      tf.dispose(fused.step(grads, 0.01));
      const before = tf.memory().numTensors;
      await withoutFusedKernel(() => tf.dispose(plain.step(grads, 0.01)));
      if (step > 0) assert.equal(tf.memory().numTensors, before, `the tf-ops path leaked at step ${step + 1}`);
      tf.dispose(Object.values(grads));
    }
    const sa = fused.getState(),
      sb = plain.getState();
    for (const n of Object.keys(SHAPES)) {
      assertClose(await values(b.params[n]), await values(a.params[n]), 1e-6, 1e-5, n);
      assertClose(await values(sb.tensors[`m.${n}`]), await values(sa.tensors[`m.${n}`]), 1e-7, 1e-5, `m.${n}`);
      assertClose(await values(sb.tensors[`v.${n}`]), await values(sa.tensors[`v.${n}`]), 1e-9, 1e-5, `v.${n}`);
    }
    tf.dispose([...Object.values(sa.tensors), ...Object.values(sb.tensors), ...Object.values(a.params), ...Object.values(b.params)]);
    fused.dispose();
    plain.dispose();
  });
}

forEachBackend("fused AdamW", checks);
describeWebGPU("fused AdamW [webgpu]", function () {
  checks();

  /** Counts, during fn, the GPU programs run and the tensors uploaded from the host (the library's step counters). */
  async function countGpuWork(fn) {
    const { traffic } = await countDeviceTraffic(fn);
    return { uploads: traffic.uploads, programs: traffic.programs };
  }

  it("a step uploads nothing from the host and runs two programs per parameter", async function () {
    if (kernelsOff()) this.skip();
    for (const clipNorm of [undefined, 1]) {
      const { params } = makeParams();
      const nParams = Object.keys(params).length;
      const opt = new AdamW(params, groups(), { weightDecay: 0.05, clipNorm });
      const { grads } = makeGrads(1);
      tf.dispose(opt.step(grads, 1e-3)); // moves the gradients and the kept constants to the GPU
      const { uploads, programs } = await countGpuWork(async () => {
        for (let i = 0; i < 3; i++) {
          const norm = opt.step(grads, 1e-3 * (i + 2));
          if (norm) await norm.data();
          tf.dispose(norm);
        }
      });
      assert.equal(uploads, 0, `tensors uploaded in 3 steps (clipNorm ${clipNorm})`);
      if (clipNorm === undefined) assert.equal(programs, 3 * 2 * nParams, "GPU programs in 3 steps");
      else assert.ok(programs >= 3 * 2 * nParams, `GPU programs in 3 steps: ${programs}`);
      await values(params["decoder.kernel"]);
      opt.dispose();
      tf.dispose([...Object.values(params), ...Object.values(grads)]);
    }
  });
});

describe("adamwUpdate arguments", () => {
  it("rejects bad tensors and attributes clearly", () => {
    const p = tf.zeros([2, 3]),
      g = tf.zeros([2, 3]),
      mv = tf.zeros([2, 2, 3]);
    const attrs = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, bc1: 0.1, bc2: 0.001 };
    assert.throws(() => adamwUpdate(p, tf.zeros([3, 2]), mv, attrs), /g must have p's shape \(2, 3\), got \(3, 2\)/);
    assert.throws(
      () => adamwUpdate(p, g, tf.zeros([2, 3]), attrs),
      /mv must have shape \(2, \.\.\.p's shape\) = \(2, 2, 3\) \(m and v stacked\), got \(2, 3\)/,
    );
    assert.throws(() => adamwUpdate(p, g, mv, { ...attrs, bc2: 0 }), /attrs.bc2 \(a bias correction 1 − β\^t\) must be in \(0, 1\], got 0/);
    assert.throws(() => adamwUpdate(p, g, mv, { ...attrs, lr: NaN }), /attrs.lr must be a finite number, got NaN/);
    assert.throws(() => adamwUpdate(p, g, mv, attrs, tf.zeros([1])), /scale must be a scalar, got shape \(1\)/);
    assert.throws(() => adamwUpdate(p, tf.zeros([2, 3], "int32"), mv, attrs), /g must be float32, got int32/);
    tf.dispose([p, g, mv]);
  });
});
