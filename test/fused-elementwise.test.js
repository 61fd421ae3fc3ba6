// The fused GELU, GLU and LayerNorm kernels against their plain-tf-ops references (values and
// autodiff gradients) and against central finite differences, on cpu and wasm, and on WebGPU where
// an adapter exists; argument errors, leaks, and the kernels the ops run; the exp of the host kernels.
const { BACKENDS, forEachBackend, describeWebGPU, assertClose, assertNoLeakAsync, randn, tf, lib, assert } = require("./helpers");

// float32 tolerances (atol, rtol)
const TOL_Y = [2e-6, 2e-6]; // a few roundings per element (the host kernels compute in float64)
const TOL_GRAD = [1e-5, 1e-5]; // dx elementwise; the LayerNorm sums over rows may add in another order
const TOL_FD = [3e-4, 1e-3]; // central differences (eps 1e-2) of a loss read back in float64
/** @param {number[]} tolerance (atol, rtol) */
const tol = ([a, r]) => `atol ${a.toExponential()}, rtol ${r.toExponential()}`;

/** S4_KERNELS=reference registers no kernels: the ops are their references, and the checks of the
 * kernels themselves skip. */
const KERNELS_OFF = lib.kernels.kernelMode() === "reference";

/**
 * One op under test, its reference, and the kernels it should run.
 * @typedef {object} FusedOp
 * @property {(...inputs: (Tensor | number)[]) => Tensor} op the fused op: inputs in the order of `names` (layerNorm: then eps)
 * @property {(...inputs: (Tensor | number)[]) => Tensor} ref the same op from plain tf ops
 * @property {string[]} kernels its forward and backward kernels
 * @property {string[]} names its tensor inputs
 * @property {(shape: number[], seed: number) => Record<string, Tensor>} make inputs for an x of `shape`
 * @property {(shape: number[]) => number[]} outShape the output's shape for an x of `shape`
 * @property {number[][]} shapes the shapes of x to check
 */
/** @typedef {import("@tensorflow/tfjs").Tensor} Tensor */

/**
 * The three ops: their inputs from the shape of x, and the shape of their output.
 * @type {Record<string, FusedOp>}
 */
const OPS = {
  gelu: {
    op: lib.kernels.gelu,
    ref: lib.kernels.geluReference,
    kernels: ["GeluTanh", "GeluTanhGrad"],
    names: ["x"],
    make: (shape, seed) => ({
      x: tf.tensor(
        randn(size(shape), seed).map((v) => 3 * v),
        shape,
      ),
    }),
    outShape: (shape) => shape,
    // (3, 101, 67): more than one chunk of 16384 elements of the host kernels
    shapes: [[7], [3, 5], [2, 3, 7], [1, 1, 1], [4, 129], [3, 101, 67]],
  },
  glu: {
    op: lib.kernels.glu,
    ref: lib.kernels.gluReference,
    kernels: ["GatedLinearUnit", "GatedLinearUnitGrad"],
    names: ["x"],
    make: (shape, seed) => ({
      x: tf.tensor(
        randn(size(shape), seed).map((v) => 4 * v),
        shape,
      ),
    }),
    outShape: (shape) => [...shape.slice(0, -1), shape[shape.length - 1] / 2],
    // (3, 41, 134): 123 rows, more than one block of rows of the host kernels
    shapes: [[6], [3, 10], [2, 3, 14], [1, 1, 2], [5, 258], [3, 41, 134]],
  },
  layerNorm: {
    op: lib.kernels.layerNorm,
    ref: lib.kernels.layerNormReference,
    kernels: ["LayerNorm", "LayerNormGrad"],
    names: ["x", "scale", "bias"],
    make: (shape, seed) => {
      const h = shape[shape.length - 1];
      return {
        // an offset row mean, as real activations have, so that centring matters
        x: tf.tensor(
          randn(size(shape), seed).map((v, i) => 2 * v + (i % 3) - 1),
          shape,
        ),
        scale: tf.tensor1d(randn(h, seed + 1).map((v) => 1 + v)),
        bias: tf.tensor1d(randn(h, seed + 2)),
      };
    },
    outShape: (shape) => shape,
    // (3, 37, 8): 111 rows, chunks of 11 with a last chunk of one row in the WebGPU column sums;
    // (3, 1001, 7): 3003 rows, two blocks of rows whose dscale, dbias partials the host kernel adds
    shapes: [[5], [4, 5], [2, 3, 7], [3, 1], [2, 129], [3, 37, 8], [2, 500, 16], [3, 1001, 7]],
  },
};

const size = (shape) => shape.reduce((a, b) => a * b, 1);
const read = (ts) => Promise.all(ts.map((t) => t.data()));

/** Gradients of Σ f(...inputs)·r with respect to every input. */
function gradsOf(f, spec, inp, r) {
  return tf.grads((...a) => tf.sum(tf.mul(f(...a), r)))(spec.names.map((n) => inp[n]));
}

/** Σ op(inputs)·r in float64 on the host: unchanged outputs cancel exactly in a difference. */
async function lossOf(spec, inp, r) {
  const y = spec.op(...spec.names.map((n) => inp[n]));
  const [yv, rv] = await read([y, r]);
  y.dispose();
  let s = 0;
  for (let i = 0; i < yv.length; i++) s += yv[i] * rv[i];
  return s;
}

/** Central differences of lossOf with respect to every element of inp[name]. */
async function finiteDifferences(spec, inp, r, name, eps) {
  const base = await inp[name].data();
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const at = async (delta) => {
      const v = Float32Array.from(base);
      v[i] += delta;
      const t = tf.tensor(v, inp[name].shape);
      const loss = await lossOf(spec, { ...inp, [name]: t }, r);
      t.dispose();
      return loss;
    };
    out[i] = ((await at(eps)) - (await at(-eps))) / (2 * eps);
  }
  return out;
}

/** Counts the host arrays handed to the backend (uploads on WebGPU) while fn runs. */
function hostWrites(fn) {
  const backend = tf.backend(),
    write = backend.write;
  let n = 0;
  backend.write = function (values, ...rest) {
    if (values != null) n++;
    return write.call(this, values, ...rest);
  };
  try {
    tf.dispose(fn());
  } finally {
    backend.write = write;
  }
  return n;
}

/** The checks shared by every backend. */
function suite(backend) {
  for (const [name, spec] of Object.entries(OPS)) {
    describe(name, () => {
      it("the forward and backward kernels are registered for this backend", function () {
        if (KERNELS_OFF) this.skip();
        for (const k of spec.kernels) assert.ok(tf.getKernel(k, backend), k);
      });

      for (const shape of spec.shapes) {
        it(`x (${shape.join(", ")}): y = reference (${tol(TOL_Y)}); gradients = reference autodiff (${tol(TOL_GRAD)})`, async () => {
          const seed = 100 + size(shape);
          const inp = spec.make(shape, seed);
          const r = tf.tensor(randn(size(spec.outShape(shape)), seed + 7), spec.outShape(shape));
          const before = tf.memory().numTensors;
          const args = spec.names.map((n) => inp[n]);
          const y = spec.op(...args),
            yRef = spec.ref(...args);
          assert.deepEqual(y.shape, spec.outShape(shape));
          const [yv, yRefv] = await read([y, yRef]);
          assertClose(yv, yRefv, ...TOL_Y, "y");
          const g = gradsOf(spec.op, spec, inp, r),
            gRef = gradsOf(spec.ref, spec, inp, r);
          const [gv, gRefv] = [await read(g), await read(gRef)];
          spec.names.forEach((n, i) => {
            assert.deepEqual(g[i].shape, inp[n].shape, `d${n} shape`);
            assertClose(gv[i], gRefv[i], ...TOL_GRAD, `d${n}`);
          });
          tf.dispose([y, yRef, ...g, ...gRef]);
          assert.equal(tf.memory().numTensors, before, "op, reference and their gradients leaked tensors");
          tf.dispose([r, ...Object.values(inp)]);
        });
      }

      for (const shape of spec.shapes.filter((s) => size(s) <= 50 && s[s.length - 1] > 1)) {
        it(`x (${shape.join(", ")}): gradients = central finite differences (eps 1e-2, ${tol(TOL_FD)})`, async () => {
          const inp = spec.make(shape, 7 + size(shape));
          const r = tf.tensor(randn(size(spec.outShape(shape)), 3), spec.outShape(shape));
          const gT = gradsOf(spec.op, spec, inp, r);
          const g = await read(gT);
          tf.dispose(gT);
          for (let i = 0; i < spec.names.length; i++) {
            assertClose(g[i], await finiteDifferences(spec, inp, r, spec.names[i], 1e-2), ...TOL_FD, `d${spec.names[i]}`);
          }
          tf.dispose([r, ...Object.values(inp)]);
        });
      }

      it("the forward runs its kernel once, the gradient its backward kernel once, and no reference ops", async function () {
        if (KERNELS_OFF) this.skip();
        const shape = name === "glu" ? [2, 4, 6] : [2, 4, 5];
        const inp = spec.make(shape, 5);
        const args = spec.names.map((n) => inp[n]);
        // dy given, so the gradient seeds no ones tensor
        const dy = tf.tidy(() => tf.onesLike(spec.op(...args)));
        const info = await tf.profile(() => tf.dispose(tf.grads((...a) => spec.op(...a))(args, dy)));
        // tf.grads passes its inputs and outputs through Identity; every other kernel counts
        const names = info.kernels.map((k) => k.name).filter((k) => k !== "Identity");
        assert.deepEqual(names, spec.kernels, names.join());
        tf.dispose([dy, ...Object.values(inp)]);
      });

      it("leaves no tensors behind (forward, gradients, reference)", async () => {
        const shape = name === "glu" ? [3, 8] : [3, 5];
        const inp = spec.make(shape, 9);
        const r = tf.ones(spec.outShape(shape));
        const args = spec.names.map((n) => inp[n]);
        await assertNoLeakAsync(() => spec.op(...args), "forward");
        await assertNoLeakAsync(() => gradsOf(spec.op, spec, inp, r), "gradients");
        await assertNoLeakAsync(() => spec.ref(...args), "reference");
        await assertNoLeakAsync(() => gradsOf(spec.ref, spec, inp, r), "reference gradients");
        tf.dispose([r, ...Object.values(inp)]);
      });
    });
  }

  it("gelu and glu at extreme inputs: finite, equal to the reference", async () => {
    const v = [-100, -30, -9, -1e-4, 0, 1e-4, 9, 30, 100];
    const x = tf.tensor1d(v),
      xx = tf.tensor2d([...v, ...v.map((a) => -a)], [1, 2 * v.length]);
    const outs = [lib.kernels.gelu(x), lib.kernels.geluReference(x), lib.kernels.glu(xx), lib.kernels.gluReference(xx)];
    const [y, yRef, z, zRef] = await read(outs);
    for (const a of [...y, ...z]) assert.ok(Number.isFinite(a), `non-finite output ${a}`);
    assertClose(y, yRef, ...TOL_Y, "gelu");
    assertClose(z, zRef, ...TOL_Y, "glu");
    const dy = tf.onesLike(x),
      dz = tf.ones([1, v.length]);
    const g = tf.grad((a) => lib.kernels.gelu(a))(x, dy),
      h = tf.grad((a) => lib.kernels.glu(a))(xx, dz);
    const [gv, hv] = await read([g, h]);
    for (const a of [...gv, ...hv]) assert.ok(Number.isFinite(a), `non-finite gradient ${a}`);
    assertClose(gv.slice(0, 2), [0, 0], 1e-12, 0, "gelu′ far left");
    assertClose(gv.slice(-2), [1, 1], 1e-6, 0, "gelu′ far right");
    tf.dispose([x, xx, dy, dz, g, h, ...outs]);
  });

  it("layerNorm: eps is used (rows of tiny variance) and defaults to 1e-5", async () => {
    // rows of variance ~2.5e-7 (below the default eps); eps = 0 would leave the float32
    // reference's rounding of the mean (~1e-7) at the same scale as the spread
    const x = tf.tensor2d(
      randn(4 * 6, 21).map((v) => 1e-3 * v + 0.5),
      [4, 6],
    );
    const scale = tf.ones([6]),
      bias = tf.zeros([6]);
    for (const eps of [1e-1, 1e-5, 1e-6]) {
      const [y, yRef] = await read([lib.kernels.layerNorm(x, scale, bias, eps), lib.kernels.layerNormReference(x, scale, bias, eps)]);
      assertClose(y, yRef, 1e-4, 1e-4, `eps ${eps}`);
      if (eps === 1e-1) assert.ok(Math.max(...y.map(Math.abs)) < 0.01, "eps 0.1 must damp rows of variance ~1e-7");
    }
    assertClose(
      await lib.kernels.layerNorm(x, scale, bias).data(),
      await lib.kernels.layerNorm(x, scale, bias, 1e-5).data(),
      0,
      0,
      "default eps",
    );
    tf.dispose([x, scale, bias]);
  });

  it("a SequenceBlock (LayerNorm, GELU, GLU) runs each fused kernel once forward and once backward", async function () {
    if (KERNELS_OFF) this.skip();
    const block = new lib.nn.SequenceBlock({ layer: new lib.nn.S4Layer({ h: 8, n: 4, l: 16, seed: 1 }), h: 8, seed: 2 });
    const x = tf.tensor3d(randn(2 * 16 * 8, 6), [2, 16, 8]);
    const params = Object.values(block.parameters());
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(block.forward(x, { training: true })), params);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = info.kernels.map((k) => k.name);
    for (const spec of Object.values(OPS)) {
      for (const k of spec.kernels) assert.equal(names.filter((n) => n === k).length, 1, `${k} in ${names.join()}`);
    }
    for (const k of ["SplitV", "Tanh", "Mean"]) assert.ok(!names.includes(k), `reference op ${k} ran: ${names.join()}`);
    x.dispose();
    block.dispose();
  });

  // host backends hand every output over as an array; on WebGPU nothing need leave the host
  if (backend === "webgpu")
    it("LayerNorm, gelu and glu run with no host uploads (forward and backward kernels)", function () {
      if (KERNELS_OFF) this.skip();
      const x = tf.tensor3d(randn(2 * 3 * 8, 4), [2, 3, 8]);
      const ln = new lib.nn.LayerNorm(8);
      const params = [ln.scale, ln.bias];
      const dy = tf.onesLike(x),
        dz = tf.ones([2, 3, 4]);
      assert.equal(
        hostWrites(() => [lib.kernels.gelu(x), ln.forward(x), lib.kernels.glu(x)]),
        0,
        "forward",
      );
      assert.equal(
        hostWrites(() => tf.grads((a, s, b) => lib.kernels.layerNorm(lib.kernels.gelu(a), s, b))([x, ...params], dy)),
        0,
        "backward",
      );
      assert.equal(
        hostWrites(() => tf.grad((a) => lib.kernels.glu(a))(x, dz)),
        0,
        "glu backward",
      );
      assert.equal(
        hostWrites(() => [lib.kernels.geluReference(x), lib.kernels.layerNormReference(x, ln.scale, ln.bias)]),
        0,
        "reference forwards",
      );
      tf.dispose([x, dy, dz]);
      ln.dispose();
    });
}

forEachBackend("fused gelu, glu, layerNorm", (backend) => {
  suite(backend);

  it("bad arguments are errors naming the argument and what was expected", () => {
    const x = tf.zeros([2, 5]),
      scale = tf.ones([5]),
      bias = tf.zeros([5]);
    for (const [fn, f] of /** @type {[string, typeof lib.kernels.gelu][]} */ ([
      ["gelu", lib.kernels.gelu],
      ["geluReference", lib.kernels.geluReference],
    ])) {
      assert.throws(() => f(tf.zeros([2], "int32")), new RegExp(`${fn}: x must be float32, got int32`));
      // @ts-expect-error -- deliberately wrong: an array, not a tensor
      assert.throws(() => f([1, 2]), new RegExp(`${fn}: x must be a tf.Tensor, got object`));
    }
    for (const [fn, f] of /** @type {[string, typeof lib.kernels.glu][]} */ ([
      ["glu", lib.kernels.glu],
      ["gluReference", lib.kernels.gluReference],
    ])) {
      assert.throws(
        () => f(tf.zeros([3, 5])),
        new RegExp(`${fn}: x must have shape \\(\\.\\.\\., 2h\\) with an even last axis ≥ 2, got \\(3, 5\\)`),
      );
      assert.throws(() => f(tf.zeros([4, 0])), /x must have shape \(\.\.\., 2h\) with an even last axis ≥ 2, got \(4, 0\)/);
      assert.throws(() => f(tf.scalar(1)), /x must have shape \(\.\.\., 2h\) with an even last axis ≥ 2, got \(\)/);
      assert.throws(() => f(tf.zeros([2, 4], "int32")), new RegExp(`${fn}: x must be float32, got int32`));
    }
    for (const [fn, f] of /** @type {[string, typeof lib.kernels.layerNorm][]} */ ([
      ["layerNorm", lib.kernels.layerNorm],
      ["layerNormReference", lib.kernels.layerNormReference],
    ])) {
      assert.throws(
        () => f(x, tf.ones([4]), bias),
        new RegExp(`${fn}: scale must have shape \\(h\\) = \\(5\\) to match x \\(2, 5\\), got \\(4\\)`),
      );
      assert.throws(() => f(x, scale, tf.zeros([1, 5])), /bias must have shape \(h\) = \(5\) to match x \(2, 5\), got \(1, 5\)/);
      assert.throws(() => f(tf.zeros([2, 5], "int32"), scale, bias), new RegExp(`${fn}: x must be float32, got int32`));
      assert.throws(() => f(x, tf.ones([5], "int32"), bias), /scale must be float32, got int32/);
      assert.throws(() => f(x, scale, undefined), /bias must be a tf.Tensor, got undefined/);
      assert.throws(() => f(tf.scalar(1), scale, bias), /x must have shape \(\.\.\., h\) with h ≥ 1, got \(\)/);
      assert.throws(() => f(x, scale, bias, -1), /eps must be a finite number ≥ 0, got -1/);
    }
    assert.throws(() => new lib.nn.LayerNorm(5).forward(tf.zeros([2, 4])), /LayerNorm.forward: x must have last axis h = 5, got \(2, 4\)/);
    for (const Norm of [lib.nn.LayerNorm, lib.nn.RMSNorm]) {
      for (const eps of [0, -1, NaN]) {
        assert.throws(() => new Norm(5, eps), new RegExp(`${Norm.name}: eps must be a finite number > 0, got ${eps}`));
      }
      // @ts-expect-error: eps is not a number
      assert.throws(() => new Norm(5, "1e-5"), new RegExp(`${Norm.name}: eps must be a finite number > 0, got 1e-5`));
    }
    tf.dispose([x, scale, bias]);
  });

  it("empty tensors give empty results", () => {
    const shapes = tf.tidy(() =>
      [
        lib.kernels.gelu(tf.zeros([0, 3])),
        lib.kernels.glu(tf.zeros([0, 4])),
        lib.kernels.layerNorm(tf.zeros([0, 3]), tf.ones([3]), tf.zeros([3])),
      ].map((t) => t.shape),
    );
    assert.deepEqual(shapes, [
      [0, 3],
      [0, 2],
      [0, 3],
    ]);
  });
});

// forEachBackend covers webgpu already when S4_TEST_WEBGPU=1
(BACKENDS.includes("webgpu") ? describe.skip : describeWebGPU)("fused gelu, glu, layerNorm on WebGPU", function () {
  suite("webgpu");
});

describe("expWide (the exp of the GELU and GLU host kernels)", () => {
  const { expWide } = require("../dist/kernels/gelu/exp-wide");

  it("is within 1e-10 of Math.exp, relatively, from −700 to 709", () => {
    let worst = 0;
    for (let i = 0; i <= 200_000; i++) {
      const x = -700 + (i / 200_000) * 1409;
      worst = Math.max(worst, Math.abs(expWide(x) / Math.exp(x) - 1));
    }
    assert.ok(worst < 1e-10, `worst relative error ${worst}`);
  });

  it("clamps: 0 far below, e^709 (finite) above, NaN for NaN", () => {
    assert.equal(expWide(-1e6), 0);
    assert.equal(expWide(-Infinity), 0);
    for (const x of [710, 1e6, Infinity]) assert.equal(expWide(x), expWide(709), `x = ${x}`);
    assert.ok(Number.isFinite(expWide(709)) && expWide(709) > 8e307);
    assert.ok(Number.isNaN(expWide(NaN)));
  });
});
