// Σ x² as one kernel: equals a float64 sum on cpu, wasm and webgpu for small and large tensors,
// keeps NaN and ∞ (gradient clipping relies on it), has gradient 2x, leaks nothing.
const { forEachBackend, describeWebGPU, assertClose, randn, tf, lib, assert, assertNoLeak } = require("./helpers");

const { sumOfSquares, sumOfSquaresReference } = lib.kernels;

function checks() {
  it("equals the float64 sum for empty, scalar, small and large tensors, in one kernel", async function () {
    if (lib.kernels.kernelMode?.() === "reference") this.skip(); // S4_KERNELS=reference registers no kernels
    assert.ok(lib.kernels.hasKernel("SumOfSquares"), `no SumOfSquares kernel on ${tf.getBackend()}`);
    for (const [k, shape] of [[0], [], [3], [255, 2], [257], [70001], [4, 64, 64]].entries()) {
      const v = randn(
        shape.reduce((a, b) => a * b, 1),
        5 + k,
      );
      const x = tf.tensor(v, shape);
      const want = Array.from(v).reduce((a, b) => a + b * b, 0);
      const got = sumOfSquares(x);
      assert.deepEqual(got.shape, []);
      assertClose(await got.data(), [want], 1e-6, 1e-5, `shape (${shape})`);
      if (x.size > 0) {
        // (tfjs's own sum fails on an empty tensor on WebGPU)
        const ref = sumOfSquaresReference(x);
        assertClose(await ref.data(), [want], 1e-6, 1e-5, `reference, shape (${shape})`);
        ref.dispose();
      }
      tf.dispose([x, got]);
    }
    const x = tf.ones([10]);
    const info = await tf.profile(() => sumOfSquares(x));
    assert.deepEqual(
      info.kernels.map((k) => k.name),
      ["SumOfSquares"],
    );
    tf.dispose([x, info.result]);
  });

  it("is NaN with a NaN element and ∞ with an infinite one", async () => {
    /** @type {[number, (s: number) => boolean][]} */
    const cases = [
      [NaN, Number.isNaN],
      [Infinity, (s) => s === Infinity],
      [-Infinity, (s) => s === Infinity],
    ];
    for (const [bad, check] of cases) {
      const v = Array.from(randn(1000, 3));
      v[617] = bad;
      const x = tf.tensor(v);
      const s = sumOfSquares(x);
      const got = (await s.data())[0];
      assert.ok(check(got), `a ${bad} element gave ${got}`);
      tf.dispose([x, s]);
    }
  });

  it("has gradient 2x and leaks no tensors", async () => {
    const x = tf.tensor(randn(300, 9), [3, 100]);
    const g = tf.grad((a) => tf.mul(sumOfSquares(a), 3))(x);
    assertClose(
      await g.data(),
      Array.from(await x.data()).map((a) => 6 * a),
      1e-6,
      1e-6,
      "d(3 Σ x²)/dx",
    );
    assertNoLeak(() => sumOfSquares(x), "forward");
    assertNoLeak(() => tf.grad((a) => sumOfSquares(a))(x), "gradient");
    tf.dispose([x, g]);
  });
}

forEachBackend("sumOfSquares", checks);
describeWebGPU("sumOfSquares [webgpu]", checks);

describe("sumOfSquares arguments", () => {
  it("rejects a non-float32 x clearly", () => {
    const x = tf.zeros([2], "int32");
    assert.throws(() => sumOfSquares(x), /sumOfSquares: x must be float32, got int32/);
    x.dispose();
  });
});
