// Autoregressive completion in RNN mode, the PNG writer, the digit grid and the sample CLI.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const zlib = require("node:zlib");
const { spawnSync } = require("node:child_process");
const { tf, lib, assert, assertClose } = require("./helpers");

const L = 784;
/** @type {import("../dist").nn.StackedModelOptions} */
const MODEL = { task: "sequence", layerKind: "s4", dModel: 8, nLayers: 2, n: 8, l: L, numClasses: 256, embedding: true, seed: 5 };

/** Reads a grayscale PNG back: checks signature, chunk CRCs and IHDR, inflates the IDAT. */
function decodeGrayPng(buf) {
  const png = Buffer.from(buf);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  let off = 8,
    ihdr = null;
  const idat = [],
    types = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off),
      type = png.toString("latin1", off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(png.readUInt32BE(off + 8 + len), zlib.crc32(png.subarray(off + 4, off + 8 + len)), `CRC of ${type}`);
    types.push(type);
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  assert.deepEqual([types[0], types[types.length - 1]], ["IHDR", "IEND"]);
  const width = ihdr.readUInt32BE(0),
    height = ihdr.readUInt32BE(4);
  assert.deepEqual([...ihdr.subarray(8)], [8, 0, 0, 0, 0], "IHDR: bit depth 8, grayscale, deflate, filter 0, no interlace");
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (width + 1));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width + 1)], 0, `row ${y}: filter byte`);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

describe("sample: completion in RNN mode", function () {
  let model, images;
  before(async () => {
    await lib.useBackend("wasm", { quiet: true });
    model = new lib.nn.StackedModel(MODEL);
    images = lib.data.loadMnist("test", { limit: 2 }).images.slice(0, 2 * L);
    await model.setupRecurrence();
  });
  after(() => model.dispose());

  it("with the whole image given and greedy decoding, copies it; the RNN logits equal the CNN logits", async () => {
    const steps = new Float32Array(2 * L * 256);
    let stats = /** @type {import("../dist").sample.SampleStats | null} */ (null);
    const out = await lib.sample.completeDigits(model, images, L, {
      greedy: true,
      setup: false,
      onStep: (t, logits) => {
        for (let i = 0; i < 2; i++) steps.set(logits.subarray(i * 256, (i + 1) * 256), (i * L + t) * 256);
      },
      onStats: (s) => {
        stats = s;
      },
    });
    assert.deepEqual(out, images);
    const x = tf.tensor2d(Int32Array.from(images), [2, L], "int32");
    const cnnT = model.forward(x);
    const cnn = cnnT.dataSync();
    tf.dispose([x, cnnT]);
    // Teacher forcing through real MNIST pixels: the logits the generator sees at every step
    // match the convolutional view, to 1e-4 of the largest logit plus 1e-3 relative.
    const scale = cnn.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assertClose(steps, cnn, 1e-4 * scale, 1e-3, "RNN-mode logits vs CNN-mode logits");
    assert.equal(stats.batch, 2);
    assert.ok(stats.pixelsPerSecond > 0);
    console.log(`      tiny model (dModel 8, 2 layers, N 8), batch 2, wasm: ${Math.round(stats.pixelsPerSecond)} pixels/s`);
  });

  it("seeded sampling is reproducible, keeps the prefix and leaks no tensors", async () => {
    const prefix = 700;
    const before = tf.memory().numTensors;
    const a = await lib.sample.completeDigits(model, images, prefix, { seed: 7, temperature: 1, setup: false });
    assert.equal(tf.memory().numTensors, before, "completeDigits leaked tensors");
    const b = await lib.sample.completeDigits(model, images, prefix, { seed: 7, temperature: 1, setup: false });
    const c = await lib.sample.completeDigits(model, images, prefix, { seed: 8, temperature: 1, setup: false });
    assert.ok(a instanceof Uint8Array && a.length === 2 * L);
    assert.deepEqual(a, b, "same seed, same pixels");
    assert.notDeepEqual(a, c, "another seed, other pixels (an untrained model is close to uniform)");
    for (let i = 0; i < 2; i++)
      assert.deepEqual(a.subarray(i * L, i * L + prefix), images.subarray(i * L, i * L + prefix), `image ${i}: prefix kept`);
    // An untrained model spreads its draws: many distinct values in the generated part.
    assert.ok(new Set(a.subarray(prefix, L)).size > 20);
  });

  it("accepts an int32 tensor and samples from scratch", async () => {
    const x = tf.tensor2d(Int32Array.from(images), [2, L], "int32");
    const fromTensor = await lib.sample.completeDigits(model, x, 780, { seed: 1, setup: false });
    x.dispose();
    const fromBytes = await lib.sample.completeDigits(model, images, 780, { seed: 1, setup: false });
    assert.deepEqual(fromTensor, fromBytes);
    const s = await lib.sample.sampleDigits(model, 1, { seed: 2, temperature: 0.5, setup: false });
    assert.equal(s.length, L);
  });

  it("names the argument, the value and what was expected", async () => {
    await assert.rejects(
      lib.sample.completeDigits(model, images, 785),
      /completeDigits: prefixLength must be an integer in \[0, 784\], got 785/,
    );
    await assert.rejects(lib.sample.completeDigits(model, images, -1), /prefixLength must be an integer in \[0, 784\], got -1/);
    await assert.rejects(
      lib.sample.completeDigits(model, images.subarray(0, 100), 0),
      /prefixes must hold b · 784 pixels for some b ≥ 1, got 100/,
    );
    await assert.rejects(
      lib.sample.completeDigits(model, images, 0, { temperature: 0 }),
      /temperature must be a finite number > 0 \(or pass greedy: true\), got 0/,
    );
    await assert.rejects(lib.sample.sampleDigits(model, 0), /sampleDigits: count must be an integer ≥ 1, got 0/);
    const cls = new lib.nn.StackedModel({ ...MODEL, task: "classification", numClasses: 10, embedding: false });
    await assert.rejects(
      lib.sample.completeDigits(cls, images, 0),
      /model must be a sequence model \(task "sequence"\), got task "classification"/,
    );
    cls.dispose();
  });
});

describe("sample: PNG and digit grid", () => {
  it("encodes 8-bit grayscale that decodes back", () => {
    const w = 37,
      h = 11;
    const gray = Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + (i >> 3)) & 255);
    const d = decodeGrayPng(lib.viz.encodePng(gray, w, h));
    assert.deepEqual([d.width, d.height], [w, h]);
    assert.deepEqual(d.pixels, gray);
    assert.throws(() => lib.viz.encodePng(gray, w, h + 1), /encodePng: gray must hold width · height = 444 pixels, got 407/);
    assert.throws(() => lib.viz.encodePng(gray, 0, h), /encodePng: width must be an integer in \[1, 2\^31 − 1\], got 0/);
  });

  it("lays out original | prefix | completion with 2-px separators", () => {
    const original = Uint8Array.from({ length: L }, (_, i) => (i * 3) & 255);
    const completion = original.map((v) => 255 - v);
    const g = lib.viz.digitGrid([
      { original, prefixLength: 300, completion },
      { original, prefixLength: 0, completion },
    ]);
    assert.deepEqual([g.width, g.height], [3 * 28 + 4 * 2, 2 * 28 + 3 * 2]);
    const at = (row, col, p) => g.pixels[(2 + row * 30 + Math.floor(p / 28)) * g.width + 2 + col * 30 + (p % 28)];
    assert.equal(at(0, 0, 500), original[500]);
    assert.equal(at(0, 1, 299), original[299]);
    assert.equal(at(0, 1, 300), 96, "hidden pixels are mid-grey");
    assert.equal(at(0, 2, 299), completion[299] >> 1, "the given prefix is dimmed in the completion");
    assert.equal(at(0, 2, 300), completion[300]);
    assert.equal(at(1, 1, 0), 96);
    assert.throws(
      () => lib.viz.digitGrid([{ original, prefixLength: 900, completion }]),
      /digitGrid: rows\[0\].prefixLength must be an integer in \[0, 784\], got 900/,
    );
  });

  it("writes atomically", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "png-"));
    const file = path.join(dir, "a.png");
    lib.viz.writePngAtomic(file, lib.viz.encodePng(new Uint8Array(4), 2, 2));
    assert.deepEqual(fs.readdirSync(dir), ["a.png"]);
    assert.equal(decodeGrayPng(fs.readFileSync(file)).width, 2);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("sample: CLI", function () {
  let dir;
  const cli = path.join(__dirname, "..", "dist", "cli", "sample.js");
  const run = (args) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, S4_BACKEND: "" } });
  before(async () => {
    await lib.useBackend("wasm", { quiet: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sample-cli-"));
    const model = new lib.nn.StackedModel(MODEL);
    await lib.train.saveModelCheckpoint(path.join(dir, "seq"), model);
    model.dispose();
    const cls = new lib.nn.StackedModel({ task: "classification", layerKind: "s4d", dModel: 4, nLayers: 1, n: 4, l: L, numClasses: 10 });
    await lib.train.saveModelCheckpoint(path.join(dir, "cls"), cls);
    cls.dispose();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("completes test images and writes a valid PNG grid next to the checkpoint", () => {
    const r = run(["--checkpoint", path.join(dir, "seq"), "--count", "2", "--prefix", "700", "--backend", "wasm"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\d+ pixels\/s/);
    const d = decodeGrayPng(fs.readFileSync(path.join(dir, "samples.png")));
    assert.deepEqual([d.width, d.height], [92, 2 * 28 + 3 * 2]);
  });

  it("exits 2 with a clear message on bad usage", () => {
    let r = run(["--checkpoint", path.join(dir, "seq"), "--prefix", "900"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--prefix must be an integer in \[0, 784\], got "900"/);
    r = run(["--checkpoint", path.join(dir, "seq"), "--bogus"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown argument "--bogus"/);
    r = run(["--checkpoint", path.join(dir, "missing")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no checkpoint at .*missing/);
    r = run(["--checkpoint", path.join(dir, "cls.json"), "--backend", "wasm"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs a sequence-model checkpoint/);
  });
});
