// The PNG writer (pngjs underneath) read back by pngjs's own reader.
const assert = require("node:assert/strict");
const { PNG } = require("pngjs");
const lib = require("../dist");

/** Seeded bytes, so that a failure reproduces. */
function bytes(n, seed) {
  const rand = lib.mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

describe("PNG writer, read back by pngjs", function () {
  it("decodes to the same gray pixels, at odd and tiny sizes", function () {
    for (const [w, h, seed] of [
      [1, 1, 1],
      [37, 11, 2],
      [92, 62, 3],
      [3, 200, 4],
    ]) {
      const gray = bytes(w * h, seed);
      const png = PNG.sync.read(Buffer.from(lib.viz.encodePng(gray, w, h)));
      assert.deepEqual([png.width, png.height, png.colorType, png.depth], [w, h, 0, 8], `${w}×${h}`);
      // pngjs hands back RGBA: gray in red, green and blue, opaque alpha.
      for (let i = 0; i < w * h; i++) {
        const px = png.data.subarray(4 * i, 4 * i + 4);
        if (px[0] !== gray[i] || px[1] !== gray[i] || px[2] !== gray[i] || px[3] !== 255) {
          assert.fail(`${w}×${h}: pixel ${i} is [${[...px]}], expected gray ${gray[i]}`);
        }
      }
    }
  });

  it("encodes a view into a larger buffer from the view's own bytes", function () {
    const whole = bytes(100, 5);
    const view = whole.subarray(10, 10 + 6 * 5);
    const png = PNG.sync.read(Buffer.from(lib.viz.encodePng(view, 6, 5)));
    assert.deepEqual(
      Array.from({ length: 30 }, (_, i) => png.data[4 * i]),
      [...view],
    );
  });

  it("round-trips a digit grid", function () {
    const original = bytes(784, 6);
    const completion = bytes(784, 7);
    const grid = lib.viz.digitGrid([{ original, prefixLength: 300, completion }]);
    const png = PNG.sync.read(Buffer.from(lib.viz.encodePng(grid.pixels, grid.width, grid.height)));
    assert.deepEqual(
      Array.from({ length: grid.width * grid.height }, (_, i) => png.data[4 * i]),
      [...grid.pixels],
    );
  });
});
