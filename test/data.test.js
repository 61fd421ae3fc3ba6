// MNIST data: IDX parsing (real and corrupt files), loading, the two tasks' batches, and seeded
// batch orders.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { assert, assertNoLeak, tf, lib } = require("./helpers");

const DIR = lib.data.mnistDataDir();

/** An IDX header + body of unsigned bytes with the given dims. */
function idxBytes(dims, body, typeCode = 0x08) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(body)]));
}

describe("data: IDX parsing", function () {
  let tmp;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "idx-test-"));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("reads the real MNIST files with their dims", function () {
    const trainImages = lib.data.readIdxFile(path.join(DIR, "train-images-idx3-ubyte"));
    assert.deepEqual(trainImages.dims, [60000, 28, 28]);
    assert.equal(trainImages.data.length, 60000 * 784);
    const trainLabels = lib.data.readIdxFile(path.join(DIR, "train-labels-idx1-ubyte"));
    assert.deepEqual(trainLabels.dims, [60000]);
    assert.deepEqual(lib.data.readIdxFile(path.join(DIR, "t10k-images-idx3-ubyte")).dims, [10000, 28, 28]);
    assert.deepEqual(lib.data.readIdxFile(path.join(DIR, "t10k-labels-idx1-ubyte")).dims, [10000]);
  });

  it("parses a small synthetic buffer, including a byte offset into a larger buffer", function () {
    const bytes = idxBytes([2, 3], [1, 2, 3, 4, 5, 6]);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    const out = lib.data.parseIdx(padded.subarray(5), "synthetic");
    assert.deepEqual(out.dims, [2, 3]);
    assert.deepEqual(Array.from(out.data), [1, 2, 3, 4, 5, 6]);
  });

  it("rejects a truncated file, naming the file and the sizes", function () {
    const src = fs.readFileSync(path.join(DIR, "t10k-labels-idx1-ubyte"));
    const file = path.join(tmp, "truncated-labels");
    fs.writeFileSync(file, src.subarray(0, src.length - 10));
    assert.throws(
      () => lib.data.readIdxFile(file),
      (/** @type {Error} */ e) => {
        assert.match(e.message, /truncated/);
        assert.ok(e.message.includes(file), e.message);
        assert.match(e.message, /expected 10008 bytes/);
        assert.match(e.message, /got 9998/);
        return true;
      },
    );
  });

  it("rejects an over-long buffer", function () {
    const bytes = idxBytes([4], [1, 2, 3, 4, 5]);
    assert.throws(() => lib.data.parseIdx(bytes, "long.idx"), /IDX file long\.idx: over-long: expected 12 bytes .*got 13/);
  });

  it("rejects a wrong magic number, an unsupported type code, and too-short headers", function () {
    const bad = idxBytes([1], [7]);
    bad[0] = 0x12;
    assert.throws(
      () => lib.data.parseIdx(bad, "magic.idx"),
      /IDX file magic\.idx: bad magic number 0x12000801; expected its first two bytes to be zero/,
    );
    assert.throws(
      () => lib.data.parseIdx(idxBytes([1], [0, 0, 0, 0], 0x0d), "float.idx"),
      /IDX file float\.idx: type code 0x0d \(float32\) is not supported; expected 0x08 \(unsigned byte\)/,
    );
    assert.throws(() => lib.data.parseIdx(new Uint8Array([0, 0]), "tiny.idx"), /tiny\.idx: 2 byte\(s\) is too short for the 4-byte magic/);
    assert.throws(
      () => lib.data.parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1]), "hdr.idx"),
      /hdr\.idx: 8 byte\(s\) is too short for a header with 3 dimension\(s\) \(16 bytes\)/,
    );
    assert.throws(() => lib.data.parseIdx(new Uint8Array([0, 0, 8, 0]), "zero.idx"), /number of dimensions is 0/);
  });

  it("loadMnist reports mismatched counts and out-of-range labels", function () {
    const dir = path.join(tmp, "bad-mnist");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "t10k-images-idx3-ubyte"), idxBytes([2, 28, 28], new Uint8Array(2 * 784)));
    fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), idxBytes([3], [1, 2, 3]));
    assert.throws(() => lib.data.loadMnist("test", { dir }), /holds 2 images but .*t10k-labels-idx1-ubyte holds 3 labels/);
    fs.writeFileSync(path.join(dir, "t10k-labels-idx1-ubyte"), idxBytes([2], [1, 12]));
    assert.throws(() => lib.data.loadMnist("test", { dir }), /has label 12 at index 1; expected 0–9/);
    // @ts-expect-error -- deliberately wrong: "valid" is not an MNIST split
    assert.throws(() => lib.data.loadMnist("valid"), /split must be "train" or "test", got "valid"/);
    assert.throws(() => lib.data.loadMnist("test", { limit: 0 }), /opts\.limit must be a positive integer, got 0/);
  });
});

describe("data: MNIST", function () {
  it("loads both splits with sane contents and caches them", function () {
    const train = lib.data.loadMnist("train");
    assert.equal(train.n, 60000);
    assert.equal(train.rows, 28);
    assert.equal(train.cols, 28);
    assert.equal(train.images.length, 60000 * 784);
    assert.equal(train.labels[0], 5, "the first training label is 5");
    let sum = 0;
    for (let i = 0; i < train.images.length; i++) sum += train.images[i];
    const mean = sum / train.images.length;
    assert.ok(Math.abs(mean / 33.3 - 1) < 0.01, `mean train pixel ${mean}, expected ≈ 33.3 (0.1307 after /255)`);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    for (const c of counts) assert.ok(c > 5000 && c < 7000, `label counts ${counts}`);
    assert.equal(lib.data.loadMnist("train").images, train.images, "second load is served from the cache");

    const test = lib.data.loadMnist("test", { limit: 100 });
    assert.equal(test.n, 100);
    assert.equal(test.images.length, 100 * 784);
    assert.equal(test.labels.length, 100);
    assert.equal(lib.data.loadMnist("test").n, 10000);
    assert.equal(lib.data.loadMnist("test", { limit: 20000 }).n, 10000);
  });
});

describe("data: tasks", function () {
  before(async () => lib.useBackend("cpu", { quiet: true }));

  it("mnist: int32 pixel tokens as inputs and targets", function () {
    const task = lib.data.makeTask("mnist", "train", { limit: 1000 });
    assert.equal(task.name, "mnist");
    assert.equal(task.seqLen, 784);
    assert.equal(task.numClasses, 256);
    assert.equal(task.inputKind, "tokens");
    assert.equal(task.n, 1000);
    const data = lib.data.loadMnist("train");
    const { x, y } = task.makeBatch([3, 0, 999]);
    assert.deepEqual(x.shape, [3, 784]);
    assert.deepEqual(y.shape, [3, 784]);
    assert.equal(x.dtype, "int32");
    assert.equal(y.dtype, "int32");
    const xv = x.dataSync(),
      yv = y.dataSync();
    assert.deepEqual(Array.from(xv.subarray(784, 1568)), Array.from(data.images.subarray(0, 784)));
    assert.deepEqual(Array.from(xv.subarray(0, 784)), Array.from(data.images.subarray(3 * 784, 4 * 784)));
    assert.deepEqual(Array.from(yv), Array.from(xv));
    tf.dispose([x, y]);
    assert.ok(Math.abs(lib.data.nllToBitsPerDim(Math.LN2 * 1.5) - 1.5) < 1e-12);
  });

  it("mnist-classification: normalized float32 pixels and int32 labels", function () {
    const task = lib.data.makeTask("mnist-classification", "test");
    assert.equal(task.numClasses, 10);
    assert.equal(task.inputKind, "real");
    assert.equal(task.n, 10000);
    const data = lib.data.loadMnist("test");
    const idx = [0, 1, 9999];
    const { x, y } = task.makeBatch(idx);
    assert.deepEqual(x.shape, [3, 784, 1]);
    assert.equal(x.dtype, "float32");
    assert.deepEqual(y.shape, [3]);
    assert.equal(y.dtype, "int32");
    assert.deepEqual(
      Array.from(y.dataSync()),
      idx.map((i) => data.labels[i]),
    );
    const xv = x.dataSync();
    let saw0 = false,
      saw255 = false;
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < 784; t++) {
        const p = data.images[idx[b] * 784 + t];
        const v = xv[b * 784 + t];
        assert.equal(v, Math.fround((p / 255 - 0.5) / 0.5));
        if (p === 0) {
          saw0 = true;
          assert.equal(v, -1);
        }
        if (p === 255) {
          saw255 = true;
          assert.equal(v, 1);
        }
      }
    }
    assert.ok(saw0 && saw255, "the batch holds pixels 0 and 255");
    assert.equal(lib.data.normalizePixel(0), -1);
    assert.equal(lib.data.normalizePixel(255), 1);
    tf.dispose([x, y]);
  });

  it("makes and disposes batches without leaking tensors", function () {
    for (const name of lib.data.TASK_NAMES) {
      const task = lib.data.makeTask(name, "test", { limit: 64 });
      for (const batch of lib.data.batchIndices(task.n, 16, { shuffle: true, seed: 1, epoch: 0 })) {
        assertNoLeak(() => task.makeBatch(batch), `${name}.makeBatch`);
      }
    }
  });

  it("holds out the last 5 000 training images as the validation split, disjoint from train", function () {
    const file = lib.data.loadMnist("train");
    const train = lib.data.makeTask("mnist", "train");
    const val = lib.data.makeTask("mnist", "validation");
    assert.equal(lib.data.VALIDATION_SIZE, 5000);
    assert.equal(train.n, 55000);
    assert.equal(val.n, 5000);
    assert.equal(lib.data.makeTask("mnist", "test").n, 10000);
    assert.equal(lib.data.makeTask("mnist-classification", "validation", { limit: 7 }).n, 7);
    // Validation example i is training-file image 55 000 + i; train example 54 999 is the one before.
    const pixels = async (task, i) => {
      const { x, y } = task.makeBatch([i]);
      const v = Array.from(await x.data());
      tf.dispose([x, y]);
      return v;
    };
    return (async () => {
      assert.deepEqual(await pixels(val, 0), Array.from(file.images.subarray(55000 * 784, 55001 * 784)));
      assert.deepEqual(await pixels(train, 54999), Array.from(file.images.subarray(54999 * 784, 55000 * 784)));
      const cls = lib.data.makeTask("mnist-classification", "validation");
      const { x, y } = cls.makeBatch([4999]);
      assert.equal((await y.data())[0], file.labels[59999]);
      tf.dispose([x, y]);
      // @ts-expect-error -- deliberately wrong: "dev" is not a task split
      assert.throws(() => lib.data.makeTask("mnist", "dev"), /makeTask: split must be one of "train", "validation", "test", got "dev"/);
      assert.throws(() => lib.data.makeTask("mnist", "train", { limit: 0 }), /makeTask: opts.limit must be a positive integer, got 0/);
    })();
  });

  it("gives clear errors for unknown tasks and bad indices", function () {
    assert.throws(
      // @ts-expect-error -- deliberately wrong: "cifar" is not a task
      () => lib.data.makeTask("cifar", "train"),
      /makeTask: unknown task "cifar"; expected one of "mnist", "mnist-classification"/,
    );
    const task = lib.data.makeTask("mnist", "test", { limit: 10 });
    assert.throws(() => task.makeBatch([0, 10]), /mnist\.makeBatch: indices\[1\] is 10; expected an integer in \[0, 9\]/);
    assert.throws(() => task.makeBatch([]), /indices must be a non-empty array/);
  });
});

describe("data: batchIndices", function () {
  const flat = (bs) => bs.flat();

  it("covers every index exactly once per epoch", function () {
    for (const [n, bs] of [
      [100, 10],
      [103, 10],
      [7, 16],
      [1, 1],
    ]) {
      const batches = lib.data.batchIndices(n, bs, { shuffle: true, seed: 42, epoch: 3 });
      assert.equal(batches.length, Math.ceil(n / bs));
      for (const b of batches.slice(0, -1)) assert.equal(b.length, bs);
      assert.deepEqual(
        flat(batches).sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i),
      );
    }
    assert.deepEqual(lib.data.batchIndices(5, 2, { shuffle: false, seed: 0, epoch: 0 }), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(lib.data.batchIndices(0, 2, { shuffle: true, seed: 0, epoch: 0 }), []);
  });

  it("is deterministic in (seed, epoch) and differs across epochs and seeds", function () {
    const a = lib.data.batchIndices(1000, 32, { shuffle: true, seed: 7, epoch: 2 });
    const b = lib.data.batchIndices(1000, 32, { shuffle: true, seed: 7, epoch: 2 });
    assert.deepEqual(a, b);
    const c = lib.data.batchIndices(1000, 32, { shuffle: true, seed: 7, epoch: 3 });
    const d = lib.data.batchIndices(1000, 32, { shuffle: true, seed: 8, epoch: 2 });
    assert.notDeepEqual(flat(a), flat(c));
    assert.notDeepEqual(flat(a), flat(d));
    assert.notDeepEqual(
      flat(a),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it("dropLast leaves out only the trailing partial batch", function () {
    const full = lib.data.batchIndices(103, 10, { shuffle: true, seed: 1, epoch: 0 });
    const dropped = lib.data.batchIndices(103, 10, { shuffle: true, seed: 1, epoch: 0, dropLast: true });
    assert.equal(dropped.length, 10);
    assert.deepEqual(dropped, full.slice(0, 10));
    assert.equal(lib.data.batchIndices(100, 10, { shuffle: false, seed: 0, epoch: 0, dropLast: true }).length, 10);
    assert.deepEqual(lib.data.batchIndices(3, 10, { shuffle: false, seed: 0, epoch: 0, dropLast: true }), []);
  });

  it("validates its arguments", function () {
    const o = { shuffle: true, seed: 0, epoch: 0 };
    assert.throws(() => lib.data.batchIndices(10, 0, o), /batchSize must be a positive integer, got 0/);
    assert.throws(() => lib.data.batchIndices(10, 2.5, o), /batchSize must be a positive integer, got 2\.5/);
    assert.throws(() => lib.data.batchIndices(-1, 2, o), /n must be a non-negative integer, got -1/);
    assert.throws(() => lib.data.batchIndices(10, 2, { ...o, epoch: -1 }), /opts\.epoch must be a non-negative integer, got -1/);
    assert.throws(() => lib.data.batchIndices(10, 2, { ...o, seed: 0.5 }), /opts\.seed must be an integer, got 0\.5/);
  });
});
