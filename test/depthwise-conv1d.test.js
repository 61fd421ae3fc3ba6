// Causal depthwise conv1d (Mamba's short convolution): the kernels against the plain-tf-ops
// reference and against central finite differences, on cpu and wasm, and on WebGPU where an
// adapter exists. Reads are asynchronous so the same checks run on every backend.
const { BACKENDS, forEachBackend, assertClose, assertNoLeakAsync, randn, tf, lib, assert, describeWebGPU } = require("./helpers");

const op = lib.kernels.causalDepthwiseConv1d;
const ref = lib.kernels.causalDepthwiseConv1dReference;

// float32 tolerances (atol, rtol)
const TOL_Y = [1e-5, 1e-5]; // k ≤ 4 products per output
const TOL_DX = [1e-5, 1e-5]; // k ≤ 4 products per element
const TOL_DW = [2e-4, 1e-4]; // sums over b·l ≤ 3072 products, each summed in its own order
const TOL_FD = [1e-4, 1e-3]; // central differences of a loss read back in float64
/** @param {number[]} tolerance [atol, rtol] */
const tol = ([a, r]) => `atol ${a.toExponential()}, rtol ${r.toExponential()}`;

/** x (b, d, l), w (d, k), bias (d) or undefined, and the loss weights r (b, d, l). */
function makeInputs(b, d, l, k, withBias, seed) {
  return {
    x: tf.tensor3d(randn(b * d * l, seed), [b, d, l]),
    w: tf.tensor2d(randn(d * k, seed + 1), [d, k]),
    bias: withBias ? tf.tensor1d(randn(d, seed + 2)) : undefined,
    r: tf.tensor3d(randn(b * d * l, seed + 3), [b, d, l]),
  };
}

/** @typedef {import("@tensorflow/tfjs").Tensor} Tensor */
/** @returns {[x: Tensor, w: Tensor, bias?: Tensor]} */
const argsOf = ({ x, w, bias }) => (bias ? [x, w, bias] : [x, w]);

/** Gradients of Σ f(x, w, bias)·r with respect to x, w (and bias). */
function gradsOf(f, inp) {
  return tf.grads((...a) => tf.sum(tf.mul(f(...a), inp.r)))(argsOf(inp));
}

const read = (ts) => Promise.all(ts.map((t) => t.data()));

/** Σ y·r in float64 on the host: unchanged outputs cancel exactly in a difference. */
async function lossOf(inp) {
  const y = op(...argsOf(inp));
  const [yv, rv] = await read([y, inp.r]);
  y.dispose();
  let s = 0;
  for (let i = 0; i < yv.length; i++) s += yv[i] * rv[i];
  return s;
}

/** Central differences of lossOf with respect to every element of inp[name]. */
async function finiteDifferences(inp, name, eps) {
  const base = await inp[name].data();
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const at = async (delta) => {
      const v = Float32Array.from(base);
      v[i] += delta;
      const t = tf.tensor(v, inp[name].shape);
      const loss = await lossOf({ ...inp, [name]: t });
      t.dispose();
      return loss;
    };
    out[i] = ((await at(eps)) - (await at(-eps))) / (2 * eps);
  }
  return out;
}

/** The checks shared by every backend. */
function suite(backend) {
  it("the forward and backward kernels are registered for this backend", () => {
    assert.ok(tf.getKernel("CausalDepthwiseConv1d", backend), "forward kernel");
    assert.ok(tf.getKernel("CausalDepthwiseConv1dGrad", backend), "backward kernel");
  });

  for (const l of [1, 3, 784, 1024]) {
    for (const b of [1, 3]) {
      for (const k of [1, 4, 6]) {
        // k > 4 takes the hosts' per-tap loops
        for (const withBias of [true, false]) {
          const name = `l=${l} b=${b} k=${k} ${withBias ? "with" : "without"} bias`;
          it(`${name}: y = reference (${tol(TOL_Y)}); dx (${tol(TOL_DX)}), dw${withBias ? ", dbias" : ""} (${tol(TOL_DW)}) = reference autodiff`, async () => {
            const inp = makeInputs(b, 5, l, k, withBias, 1000 + l + 10 * b + k);
            const before = tf.memory().numTensors;
            const y = op(...argsOf(inp)),
              yRef = ref(...argsOf(inp));
            assert.deepEqual(y.shape, [b, 5, l]);
            const [yv, yRefv] = await read([y, yRef]);
            assertClose(yv, yRefv, ...TOL_Y, "y");
            const g = gradsOf(op, inp),
              gRef = gradsOf(ref, inp);
            const [gv, gRefv] = [await read(g), await read(gRef)];
            assertClose(gv[0], gRefv[0], ...TOL_DX, "dx");
            assertClose(gv[1], gRefv[1], ...TOL_DW, "dw");
            if (withBias) assertClose(gv[2], gRefv[2], ...TOL_DW, "dbias");
            tf.dispose([y, yRef, ...g, ...gRef]);
            assert.equal(tf.memory().numTensors, before, "op, reference and their gradients leaked tensors");
            tf.dispose(Object.values(inp));
          });
        }
      }
    }
  }

  /** @type {[k: number, withBias: boolean][]} */
  const fdCases = [
    [4, true],
    [1, false],
    [3, true],
    [6, true],
  ];
  for (const [k, withBias] of fdCases) {
    it(`k=${k} ${withBias ? "with" : "without"} bias, b=2 d=3 l=6: gradients = central finite differences (eps 1e-2, ${tol(TOL_FD)})`, async () => {
      const inp = makeInputs(2, 3, 6, k, withBias, 77 + k);
      const gT = gradsOf(op, inp);
      const g = await read(gT);
      tf.dispose(gT);
      const names = withBias ? ["x", "w", "bias"] : ["x", "w"];
      for (let i = 0; i < names.length; i++) {
        assertClose(g[i], await finiteDifferences(inp, names[i], 1e-2), ...TOL_FD, `d${names[i]}`);
      }
      tf.dispose(Object.values(inp));
    });
  }

  it("the gradient runs the backward kernel once and no reference ops", async () => {
    const inp = makeInputs(2, 4, 16, 4, true, 5);
    const info = await tf.profile(() => tf.dispose(gradsOf(op, inp)));
    const names = info.kernels.map((kr) => kr.name);
    assert.equal(names.filter((n) => n === "CausalDepthwiseConv1dGrad").length, 1, names.join());
    assert.equal(names.filter((n) => n === "CausalDepthwiseConv1d").length, 1, names.join());
    assert.ok(!names.includes("PadV2") && !names.includes("Slice"), `reference ops ran: ${names.join()}`);
    tf.dispose(Object.values(inp));
  });

  it("leaves no tensors behind (forward, gradients, with and without bias)", async () => {
    const inp = makeInputs(2, 4, 10, 4, true, 9);
    await assertNoLeakAsync(() => op(inp.x, inp.w, inp.bias), "forward with bias");
    await assertNoLeakAsync(() => op(inp.x, inp.w), "forward without bias");
    await assertNoLeakAsync(() => gradsOf(op, inp), "gradients with bias");
    await assertNoLeakAsync(() => gradsOf(op, { ...inp, bias: undefined }), "gradients without bias");
    tf.dispose(Object.values(inp));
  });
}

forEachBackend("causalDepthwiseConv1d", (backend) => {
  suite(backend);

  it("bad arguments are errors naming the argument and what was expected", () => {
    const x = tf.zeros([2, 5, 7]),
      w = tf.zeros([5, 4]),
      bias = tf.zeros([5]);
    for (const f of [op, ref]) {
      const fn = f === op ? "causalDepthwiseConv1d" : "causalDepthwiseConv1dReference";
      assert.throws(() => f(tf.zeros([5, 7]), w), new RegExp(`${fn}: x must have shape \\(b, d, l\\) with every size ≥ 1, got \\(5, 7\\)`));
      assert.throws(() => f(tf.zeros([2, 5, 0]), w), /x must have shape \(b, d, l\) with every size ≥ 1, got \(2, 5, 0\)/);
      assert.throws(() => f(x, tf.zeros([4, 4])), /w must have shape \(d, k\) = \(5, k ≥ 1\) to match x \(2, 5, 7\), got \(4, 4\)/);
      assert.throws(() => f(x, tf.zeros([5])), /w must have shape \(d, k\) = \(5, k ≥ 1\) to match x \(2, 5, 7\), got \(5\)/);
      assert.throws(() => f(x, tf.zeros([5, 0])), /w must have shape \(d, k\)/);
      assert.throws(() => f(x, w, tf.zeros([4])), /bias must have shape \(d\) = \(5\) to match x \(2, 5, 7\), got \(4\)/);
      assert.throws(() => f(x, w, tf.zeros([5, 1])), /bias must have shape \(d\) = \(5\)/);
      assert.throws(() => f(tf.zeros([2, 5, 7], "int32"), w), /x must be float32, got int32/);
      // @ts-expect-error -- deliberately wrong: a nested array instead of a tensor
      assert.throws(() => f([[[1]]], w), /x must be a tf.Tensor, got object/);
    }
    tf.dispose([x, w, bias]);
  });

  it("a kernel longer than the sequence only sees zeros before t = 0", async () => {
    // l = 2, k = 4: y[t] = bias + w[3] x[t] + w[2] x[t − 1]
    const y = op(tf.tensor3d([[[1, 10]]]), tf.tensor2d([[1000, 100, 2, 3]]), tf.tensor1d([0.5]));
    assertClose(await y.data(), [0.5 + 3, 0.5 + 30 + 2], 0, 1e-7, "y");
  });
});

// forEachBackend covers webgpu already when S4_TEST_WEBGPU=1
(BACKENDS.includes("webgpu") ? describe.skip : describeWebGPU)("causalDepthwiseConv1d on WebGPU", function () {
  suite("webgpu");
});
