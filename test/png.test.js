// The PNG writer (pngjs underneath) read back by pngjs's own reader, and crc32 (node's zlib.crc32)
// against the table-driven CRC-32 of the PNG specification.
const assert = require("node:assert/strict");
const { PNG } = require("pngjs");
const lib = require("../dist");

/** The PNG specification's CRC-32, bit by bit through a 256-entry table: the reference. */
function referenceCrc32(bytes) {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  let c = 0xffffffff;
  for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

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
      const png = PNG.sync.read(Buffer.from(lib.encodePng(gray, w, h)));
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
    const png = PNG.sync.read(Buffer.from(lib.encodePng(view, 6, 5)));
    assert.deepEqual(
      Array.from({ length: 30 }, (_, i) => png.data[4 * i]),
      [...view],
    );
  });

  it("round-trips a digit grid", function () {
    const original = bytes(784, 6);
    const completion = bytes(784, 7);
    const grid = lib.digitGrid([{ original, prefixLength: 300, completion }]);
    const png = PNG.sync.read(Buffer.from(lib.encodePng(grid.pixels, grid.width, grid.height)));
    assert.deepEqual(
      Array.from({ length: grid.width * grid.height }, (_, i) => png.data[4 * i]),
      [...grid.pixels],
    );
  });
});

describe("crc32", function () {
  it("equals the specification's table-driven CRC-32", function () {
    assert.equal(lib.crc32(new Uint8Array(0)), 0);
    assert.equal(lib.crc32(Buffer.from("IEND")), 0xae426082);
    for (const n of [1, 3, 64, 1000, 65537]) {
      const b = bytes(n, n);
      assert.equal(lib.crc32(b), referenceCrc32(b), `${n} bytes`);
    }
  });
});
