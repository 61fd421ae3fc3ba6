// Seeded dropout: the kernels equal the host-built mask exactly on every backend, the mask keeps
// about 1 − rate of the elements (a binomial bound), the gradient reuses the same mask, and a
// seed always gives the same mask.
const { forEachBackend, describeWebGPU, randn, tf, lib, assert, assertNoLeak } = require("./helpers");

const { seededDropout, seededDropoutReference, dropoutMaskValues } = lib.kernels;

function checks() {
  // (3, 101, 67): more than one chunk of 16384 elements of the host kernel
  for (const shape of [
    [3, 5, 7],
    [3, 101, 67],
  ]) {
    it(`x (${shape.join(", ")}): equals x · mask (the host-built mask) exactly, forward and gradient`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(randn(n, 1), shape);
      const r = tf.tensor(randn(n, 2), shape);
      const mask = dropoutMaskValues(x.size, 0.25, 42);
      const y = seededDropout(x, 0.25, 42);
      const yRef = seededDropoutReference(x, 0.25, 42);
      const [xv, yv, yr] = await Promise.all([x.data(), y.data(), yRef.data()]);
      for (let i = 0; i < x.size; i++) {
        assert.equal(yv[i] + 0, Math.fround(xv[i] * mask[i]) + 0, `y[${i}]`); // + 0: a dropped −x reads as 0 or −0
        assert.equal(yr[i] + 0, yv[i] + 0, `reference y[${i}]`);
      }
      const g = tf.grad((a) => tf.sum(tf.mul(seededDropout(a, 0.25, 42), r)))(x);
      const [gv, rv] = await Promise.all([g.data(), r.data()]);
      for (let i = 0; i < x.size; i++) assert.equal(gv[i] + 0, Math.fround(rv[i] * mask[i]) + 0, `dx[${i}]`);
      tf.dispose([x, r, y, yRef, g]);
    });
  }

  it("keeps about 1 − rate of a large tensor (within 5 binomial standard deviations), scaled by 1/(1 − rate)", async () => {
    const n = 200_000;
    for (const rate of [0.1, 0.25, 0.5, 0.9]) {
      const y = seededDropout(tf.ones([n]), rate, 7);
      const v = await y.data();
      y.dispose();
      let kept = 0;
      for (const a of v)
        if (a !== 0) {
          kept++;
          assert.equal(a, Math.fround(1 / (1 - rate)));
        }
      const mean = n * (1 - rate),
        sd = Math.sqrt(n * rate * (1 - rate));
      assert.ok(Math.abs(kept - mean) < 5 * sd, `rate ${rate}: kept ${kept}, expected ${mean} ± ${5 * sd}`);
    }
  });

  it("gives the same mask for a seed and a different one for another; rate 0 is the identity", async () => {
    const x = tf.ones([4096]);
    const [a, b, c] = await Promise.all(
      [seededDropout(x, 0.5, 3), seededDropout(x, 0.5, 3), seededDropout(x, 0.5, 4)].map(async (t) => {
        const v = await t.data();
        t.dispose();
        return v;
      }),
    );
    assert.deepEqual(a, b);
    let same = 0;
    for (let i = 0; i < a.length; i++) same += a[i] === c[i] ? 1 : 0;
    assert.ok(same < 0.6 * a.length, `masks of seeds 3 and 4 agree on ${same} of ${a.length}`);
    const id = seededDropout(x, 0, 3);
    assert.deepEqual(await id.data(), await x.data());
    tf.dispose([x, id]);
  });

  it("leaks no tensors", () => {
    const x = tf.ones([8, 8]);
    assertNoLeak(() => seededDropout(x, 0.3, 1), "forward");
    assertNoLeak(() => tf.grad((a) => tf.sum(seededDropout(a, 0.3, 1)))(x), "gradient");
    x.dispose();
  });
}

forEachBackend("seededDropout", checks);
describeWebGPU("seededDropout [webgpu]", checks);

describe("seededDropout arguments", () => {
  it("rejects a bad rate, seed or x clearly", () => {
    const x = tf.ones([2]);
    assert.throws(() => seededDropout(x, 1, 0), /rate must be a number in \[0, 1\), got 1/);
    assert.throws(() => seededDropout(x, 0.5, 1.5), /seed must be an integer, got 1.5/);
    assert.throws(() => seededDropout(tf.ones([2], "int32"), 0.5, 0), /x must be a float32 tf.Tensor, got int32/);
    x.dispose();
  });
});
