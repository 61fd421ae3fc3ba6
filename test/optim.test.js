// AdamW against a float64 reference, gradient clipping, leaks, state round trips; schedules.
const { forEachBackend, assertClose, adamwReferenceStep, randn, tf, lib, assert } = require("./helpers");

/** Rounds a float64 array to float32 values. */
const f32 = (a) => Array.from(Float32Array.from(a));

forEachBackend("AdamW", () => {
  it("matches a float64 reference for 3 steps with two groups (lr multiplier, weight decay)", () => {
    const shapes = { "blocks.0.layer.Lambda_re": [2, 3], "blocks.0.norm.gamma": [4], "decoder.kernel": [3, 2] };
    /** @type {Record<string, number[]>} */
    const init = {};
    /** @type {Record<string, import("@tensorflow/tfjs").Variable>} */
    const params = {};
    Object.entries(shapes).forEach(([n, s], k) => {
      init[n] = f32(
        randn(
          s.reduce((a, b) => a * b, 1),
          10 + k,
        ),
      );
      params[n] = tf.variable(tf.tensor(init[n], s));
    });
    const groups = lib.train.s4ParamGroups({ ssmLrScale: 0.1 });
    groups.push({ name: "norm", match: (n) => n.endsWith(".gamma"), lr: 0.5, weightDecay: 0.2 });
    const opt = new lib.train.AdamW(params, groups, { weightDecay: 0.05 });
    const cfg = {
      "blocks.0.layer.Lambda_re": { scale: 0.1, wd: 0 },
      "blocks.0.norm.gamma": { scale: 0.5, wd: 0.2 },
      "decoder.kernel": { scale: 1, wd: 0.05 },
    };
    assert.deepEqual(opt.describe()["blocks.0.layer.Lambda_re"], { group: "ssm", lrScale: 0.1, weightDecay: 0 });
    const ref = {},
      st = {};
    for (const n of Object.keys(shapes)) {
      ref[n] = init[n].slice();
      st[n] = { m: ref[n].map(() => 0), v: ref[n].map(() => 0), t: 0 };
    }
    const lrs = [0.01, 0.03, 0.02];
    for (let step = 0; step < 3; step++) {
      /** @type {Record<string, number[]>} */
      const gArr = {};
      /** @type {Record<string, import("@tensorflow/tfjs").Tensor>} */
      const grads = {};
      Object.entries(shapes).forEach(([n, s], k) => {
        gArr[n] = f32(randn(init[n].length, 100 * step + k));
        grads[n] = tf.tensor(gArr[n], s);
      });
      opt.step(grads, lrs[step]);
      tf.dispose(Object.values(grads));
      for (const n of Object.keys(shapes)) {
        ref[n] = adamwReferenceStep(ref[n], gArr[n], st[n], { lr: lrs[step] * cfg[n].scale, wd: cfg[n].wd });
        assertClose(params[n].dataSync(), ref[n], 1e-6, 0, `${n} after step ${step + 1}`);
      }
    }
    assert.equal(opt.iterations, 3);
    opt.dispose();
    tf.dispose(Object.values(params));
  });

  it("first step moves each entry by about lr (bias correction) and decays weights without gradient", () => {
    const p = tf.variable(tf.tensor([1, -2, 3]));
    const opt = new lib.train.AdamW({ w: p }, [], { weightDecay: 0 });
    const g = tf.tensor([0.001, -5, 100]);
    opt.step({ w: g }, 0.1);
    assertClose(p.dataSync(), [0.9, -1.9, 2.9], 1e-5, 0, "first step");
    opt.dispose();
    const q = tf.variable(tf.tensor([2, -4]));
    const opt2 = new lib.train.AdamW({ q }, [], { weightDecay: 0.5 });
    const z = tf.zeros([2]);
    opt2.step({ q: z }, 0.1);
    assertClose(q.dataSync(), [2 - 0.1 * 0.5 * 2, -4 + 0.1 * 0.5 * 4], 1e-6, 0, "pure decay");
    opt2.dispose();
    tf.dispose([p, g, q, z]);
  });

  it("clips the global gradient norm exactly, on the device", async () => {
    const a = tf.variable(tf.tensor([0, 0])),
      b = tf.variable(tf.tensor([0]));
    const opt = new lib.train.AdamW({ a, b }, [], { weightDecay: 0, clipNorm: 1, betas: [0, 0.999] });
    // Global norm of (3, 4, 12) is 13; clipped gradient is (3, 4, 12)/13.
    const ga = tf.tensor([3, 4]),
      gb = tf.tensor([12]);
    const norm = opt.step({ a: ga, b: gb }, 1);
    assertClose(await norm.data(), [13], 1e-6, 0, "returned norm");
    norm.dispose();
    const st = opt.getState();
    assertClose(st.tensors["m.a"].dataSync(), [3 / 13, 4 / 13], 1e-7, 0, "clipped m.a");
    assertClose(st.tensors["m.b"].dataSync(), [12 / 13], 1e-7, 0, "clipped m.b");
    assertClose(st.tensors["v.b"].dataSync(), [0.001 * (12 / 13) ** 2], 1e-9, 1e-6, "clipped v.b");
    tf.dispose(Object.values(st.tensors));
    // Below the threshold gradients pass unchanged.
    const small = tf.tensor([0.3, 0.4]),
      zero = tf.tensor([0]);
    const norm2 = opt.step({ a: small, b: zero }, 1);
    assertClose(await norm2.data(), [0.5], 1e-6, 0, "small norm");
    norm2.dispose();
    const st2 = opt.getState();
    assertClose(st2.tensors["m.a"].dataSync(), [0.3, 0.4], 1e-7, 0, "unclipped m.a (beta1 = 0)");
    tf.dispose(Object.values(st2.tensors));
    // A non-finite norm skips the update: parameters and moments stay as they were.
    const before = await a.data();
    const bad = tf.tensor([NaN, 1]);
    const norm3 = opt.step({ a: bad, b: zero }, 1);
    assert.ok(Number.isNaN((await norm3.data())[0]), "the NaN norm is reported");
    assert.deepEqual(await a.data(), before, "a NaN gradient changed the parameter");
    const st3 = opt.getState();
    assertClose(await st3.tensors["m.a"].data(), [0.3, 0.4], 1e-7, 0, "moments kept after a NaN gradient");
    tf.dispose([norm3, bad, ...Object.values(st3.tensors)]);
    opt.dispose();
    tf.dispose([a, b, ga, gb, small, zero]);
  });

  it("leaks no tensors over 20 steps", () => {
    const params = { "x.A_log": tf.variable(tf.randomNormal([4, 3])), "y.kernel": tf.variable(tf.randomNormal([5])) };
    const opt = new lib.train.AdamW(params, lib.train.s4ParamGroups(), { clipNorm: 0.5 });
    const grads = { "x.A_log": tf.randomNormal([4, 3]), "y.kernel": tf.randomNormal([5]) };
    tf.dispose(opt.step(grads, 1e-3));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) tf.dispose(opt.step(grads, 1e-3));
    assert.equal(tf.memory().numTensors, before, "tensor count changed across steps");
    opt.dispose();
    tf.dispose([...Object.values(params), ...Object.values(grads)]);
  });

  it("state save/restore gives identical subsequent updates", () => {
    const mk = () => ({ w: tf.variable(tf.tensor(randn(6, 1), [2, 3])) });
    const pa = mk(),
      pb = mk();
    const a = new lib.train.AdamW(pa, [], { weightDecay: 0.1 });
    const b = new lib.train.AdamW(pb, [], { weightDecay: 0.1 });
    const grad = (s) => ({ w: tf.tensor(randn(6, s), [2, 3]) });
    for (let s = 0; s < 3; s++) {
      const g = grad(s);
      a.step(g, 0.01);
      b.step(g, 0.01);
      tf.dispose(g.w);
    }
    const state = a.getState();
    const saved = pa.w.clone();
    // b diverges, then is restored to a's state and parameter values.
    const noise = grad(99);
    b.step(noise, 0.5);
    b.step(noise, 0.5);
    tf.dispose(noise.w);
    b.setState(state);
    pb.w.assign(saved);
    assert.equal(b.iterations, 3);
    for (let s = 3; s < 6; s++) {
      const g = grad(s);
      a.step(g, 0.02);
      b.step(g, 0.02);
      tf.dispose(g.w);
    }
    assert.deepEqual(Array.from(pb.w.dataSync()), Array.from(pa.w.dataSync()));
    tf.dispose([...Object.values(state.tensors), saved, pa.w, pb.w]);
    a.dispose();
    b.dispose();
  });

  it("rejects bad arguments with clear errors", () => {
    const w = tf.variable(tf.zeros([2, 2]));
    const opt = new lib.train.AdamW({ w });
    const g = tf.zeros([2, 2]),
      g3 = tf.zeros([3]);
    assert.throws(() => opt.step({ nope: g }, 0.1), /unknown parameter "nope"/);
    assert.throws(() => opt.step({ w: g3 }, 0.1), /grads\["w"\] must have the parameter's shape \[2, 2\], got \[3\]/);
    assert.throws(() => opt.step({ w: g }, NaN), /lr must be a finite number >= 0, got NaN/);
    assert.throws(() => opt.step({ w: g }, Infinity), /got Infinity/);
    assert.throws(() => new lib.train.AdamW({ w }, [], { betas: [0.9, 1] }), /opts.betas\[1\] must be a number in \[0, 1\), got 1/);
    assert.throws(
      () => new lib.train.AdamW({ w }, [{ name: "x", match: () => true, lr: -1 }]),
      /groups\[0\].lr \(group "x"\) must be a finite number >= 0, got -1/,
    );
    assert.throws(() => new lib.train.AdamW({ w }, [], { clipNorm: 0 }), /opts.clipNorm must be/);
    const st = opt.getState();
    assert.throws(() => opt.setState({ step: 1, tensors: { "m.w": st.tensors["m.w"] } }), /missing "v.w"/);
    assert.throws(() => opt.setState({ step: 1.5, tensors: st.tensors }), /state.step must be an integer/);
    tf.dispose(Object.values(st.tensors));
    opt.dispose();
    assert.throws(() => opt.step({ w: g }, 0.1), /disposed/);
    tf.dispose([w, g, g3]);
  });
});

describe("learning-rate schedules", () => {
  const { oneCycleCosine, constantLr } = lib.train;

  it("oneCycleCosine: start, peak, end and monotone pieces (cosine warm-up)", () => {
    const s = oneCycleCosine({ maxLr: 0.01, totalSteps: 1000 });
    const peak = 0.1 * 1000 - 1;
    assertClose([s(0)], [0.01 / 25], 1e-15, 1e-12, "start");
    assertClose([s(peak)], [0.01], 1e-15, 1e-12, "peak");
    assertClose([s(999)], [0.01 / 25 / 1e4], 1e-15, 1e-12, "end");
    // PyTorch's cos anneal: halfway through the warm-up is the midpoint of start and peak.
    const mid = s(Math.round(peak / 2));
    assert.ok(Math.abs(mid - (0.01 + 0.0004) / 2) < 2e-4, `mid warm-up ${mid}`);
    for (let i = 1; i <= peak; i++) assert.ok(s(i) > s(i - 1), `warm-up not increasing at ${i}`);
    for (let i = peak + 1; i < 1000; i++) assert.ok(s(i) < s(i - 1), `decay not decreasing at ${i}`);
    const decayMid = peak + (999 - peak) / 2;
    assertClose([s(decayMid)], [(0.01 + 0.01 / 25 / 1e4) / 2], 1e-15, 1e-9, "middle of decay");
  });

  it("oneCycleCosine: linear warm-up, custom divisors, no warm-up", () => {
    const s = oneCycleCosine({ maxLr: 1, totalSteps: 101, warmupFraction: 0.2, startDiv: 10, endDiv: 100, warmup: "linear" });
    const peak = 0.2 * 101 - 1;
    assertClose([s(0), s(100)], [0.1, 0.1 / 100], 1e-15, 1e-12, "ends");
    assertClose([s(10)], [0.1 + 0.9 * (10 / peak)], 1e-15, 1e-12, "linear warm-up");
    const n = oneCycleCosine({ maxLr: 2, totalSteps: 10, warmupFraction: 0 });
    assertClose([n(0), n(9)], [2, 2 / 25 / 1e4], 1e-15, 1e-12, "no warm-up");
  });

  it("validates arguments and step range", () => {
    assert.throws(() => oneCycleCosine({ maxLr: -1, totalSteps: 10 }), /maxLr must be a finite number > 0, got -1/);
    assert.throws(() => oneCycleCosine({ maxLr: 1, totalSteps: 1.5 }), /totalSteps must be an integer >= 2, got 1.5/);
    assert.throws(
      () => oneCycleCosine({ maxLr: 1, totalSteps: 10, warmupFraction: 1 }),
      /warmupFraction must be a number in \[0, 1\), got 1/,
    );
    // @ts-expect-error -- deliberately wrong: an unknown warm-up shape
    assert.throws(() => oneCycleCosine({ maxLr: 1, totalSteps: 10, warmup: "exp" }), /warmup must be "cos" or "linear", got "exp"/);
    const s = oneCycleCosine({ maxLr: 1, totalSteps: 10 });
    assert.throws(() => s(10), /step must be an integer in \[0, 9\] \(totalSteps 10\), got 10/);
    assert.throws(() => s(-1), /got -1/);
    assert.equal(constantLr(0.3)(7), 0.3);
    assert.throws(() => constantLr(NaN), /lr must be a finite number >= 0, got NaN/);
  });
});
