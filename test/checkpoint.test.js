// Checkpoint files: round trip, corruption with clear errors, atomic replacement, exact resume.
const fs = require("node:fs");
const fsp = require("node:fs/promises");
const os = require("node:os");
const path = require("node:path");
const { forEachBackend, randn, tf, lib, assert } = require("./helpers");

function bits(t) {
  const d = t.dataSync();
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

forEachBackend("checkpoint", () => {
  let dir;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-test-")); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function sample() {
    const special = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4e38, -1.5]);
    return {
      "blocks.0.layer.Lambda_re": tf.tensor(randn(12, 1), [3, 4]),
      "decoder.kernel": tf.tensor(special, [2, 4]),
      "counts": tf.tensor([1, -2, 2147483647, -2147483648], [4], "int32"),
      "scalar": tf.scalar(0.25),
      "empty": tf.zeros([0, 3]),
    };
  }
  /** The binary a checkpoint's manifest names (`<base>.<hash>.bin`). */
  const binOf = (base) => path.join(path.dirname(base), JSON.parse(fs.readFileSync(base + ".json", "utf8")).binary);
  const config = { model: "s4d", dModel: 16, layers: [1, 2], nested: { ok: true, none: null } };
  const meta = { epoch: 3, step: 120, rng: [123456789, 42] };

  it("round trips values bit for bit, with config and meta", async () => {
    const tensors = sample();
    const base = path.join(dir, "model");
    await lib.saveCheckpoint(base, { config, tensors, meta });
    assert.ok(fs.existsSync(base + ".json") && fs.existsSync(binOf(base)));
    const files = fs.readdirSync(dir).sort();
    assert.equal(files.length, 2, `temporary files left behind: ${files}`);
    assert.match(files[0], /^model\.[0-9a-f]{16}\.bin$/);
    assert.equal(files[1], "model.json");
    const loaded = await lib.loadCheckpoint(base);
    assert.deepEqual(loaded.config, config);
    assert.deepEqual(loaded.meta, meta);
    assert.deepEqual(Object.keys(loaded.tensors), Object.keys(tensors));
    for (const [n, t] of Object.entries(tensors)) {
      assert.deepEqual(loaded.tensors[n].shape, t.shape, `${n} shape`);
      assert.equal(loaded.tensors[n].dtype, t.dtype, `${n} dtype`);
      assert.deepEqual(bits(loaded.tensors[n]), bits(t), `${n} bits`);
      assert.notEqual(loaded.tensors[n], t);
    }
    lib.checkShapes(Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.shape])), loaded.tensors);
    const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
    assert.equal(m.format, "s4-mamba-checkpoint");
    assert.equal(m.version, 1);
    assert.equal(m.byteLength, fs.statSync(binOf(base)).size);
    tf.dispose([...Object.values(tensors), ...Object.values(loaded.tensors)]);
  });

  it("checkShapes names missing, extra and mismatched tensors", () => {
    const loaded = { a: tf.zeros([2]), b: tf.zeros([3, 1]), extra: tf.zeros([1]) };
    assert.throws(() => lib.checkShapes({ a: [2], b: [3], c: [4] }, loaded),
      /missing c; unexpected extra; shape mismatch b: expected \[3\], got \[3, 1\]/);
    tf.dispose(Object.values(loaded));
  });

  describe("corruption", () => {
    let base;
    beforeEach(async () => {
      base = path.join(dir, "c");
      const tensors = sample();
      await lib.saveCheckpoint(base, { config, tensors, meta });
      tf.dispose(Object.values(tensors));
    });
    const editManifest = (f) => {
      const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
      f(m);
      fs.writeFileSync(base + ".json", JSON.stringify(m));
    };

    it("truncated binary", async () => {
      const size = fs.statSync(binOf(base)).size;
      fs.truncateSync(binOf(base), size - 5);
      await assert.rejects(lib.loadCheckpoint(base), new RegExp(`c\\.[0-9a-f]{16}\\.bin is corrupt: size is ${size - 5} bytes, the manifest expects ${size}`));
    });
    it("flipped byte", async () => {
      const buf = fs.readFileSync(binOf(base));
      buf[7] ^= 0x10;
      fs.writeFileSync(binOf(base), buf);
      await assert.rejects(lib.loadCheckpoint(base), /c\.[0-9a-f]{16}\.bin is corrupt: checksum mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/);
    });
    it("manifest entry past the end of the binary", async () => {
      editManifest((m) => { m.tensors[0].offset = m.byteLength; });
      await assert.rejects(lib.loadCheckpoint(base), /c\.json is invalid: tensor "blocks\.0\.layer\.Lambda_re" \(tensors\[0\]\): bytes \d+\.\.\d+ run past the end of the binary/);
    });
    it("entry length inconsistent with its shape, bad shape, duplicate name, unknown dtype", async () => {
      editManifest((m) => { m.tensors[1].length = 4; });
      await assert.rejects(lib.loadCheckpoint(base), /length 4 does not match shape \[2, 4\] \(expected 32 bytes\)/);
      editManifest((m) => { m.tensors[1].length = 32; m.tensors[1].shape = [2, -4]; });
      await assert.rejects(lib.loadCheckpoint(base), /shape must be an array of non-negative integers, got \[2,-4\]/);
      editManifest((m) => { m.tensors[1].shape = [2, 4]; m.tensors[1].name = m.tensors[0].name; });
      await assert.rejects(lib.loadCheckpoint(base), /duplicate name/);
      editManifest((m) => { m.tensors[1].name = "decoder.kernel"; m.tensors[1].dtype = "float64"; });
      await assert.rejects(lib.loadCheckpoint(base), /dtype must be "float32" or "int32", got "float64"/);
    });
    it("wrong format and version", async () => {
      editManifest((m) => { m.version = 2; });
      await assert.rejects(lib.loadCheckpoint(base), /c\.json has unsupported version 2; this library reads version 1/);
      editManifest((m) => { m.version = 1; m.format = "other"; });
      await assert.rejects(lib.loadCheckpoint(base), /format must be "s4-mamba-checkpoint", got "other"/);
    });
    it("a binary name that leaves the folder is refused", async () => {
      editManifest((m) => { m.binary = "../elsewhere.bin"; });
      await assert.rejects(lib.loadCheckpoint(base), /binary must be a plain file name ending in \.bin in the manifest's folder, got "\.\.\/elsewhere\.bin"/);
    });
    it("invalid JSON", async () => {
      fs.writeFileSync(base + ".json", '{"format": "s4-mamba-checkpoint", ');
      await assert.rejects(lib.loadCheckpoint(base), /c\.json is not valid JSON: /);
    });
    it("missing files", async () => {
      fs.unlinkSync(binOf(base));
      await assert.rejects(lib.loadCheckpoint(base), /checkpoint binary .*c\.[0-9a-f]{16}\.bin not found/);
      await assert.rejects(lib.loadCheckpoint(path.join(dir, "nothing")), /checkpoint manifest .*nothing\.json not found/);
    });
  });

  describe("atomic replacement", () => {
    let base, oldTensors;
    beforeEach(async () => {
      base = path.join(dir, "a");
      oldTensors = { w: tf.tensor([1, 2, 3]) };
      await lib.saveCheckpoint(base, { config: { v: "old" }, tensors: oldTensors, meta: { step: 1 } });
    });
    afterEach(() => tf.dispose(Object.values(oldTensors)));

    async function assertOldIntact() {
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, `leftover temporary files: ${files}`);
      assert.match(files[0], /^a\.[0-9a-f]{16}\.bin$/);
      const l = await lib.loadCheckpoint(base);
      assert.deepEqual(l.config, { v: "old" });
      assert.deepEqual(Array.from(l.tensors.w.dataSync()), [1, 2, 3]);
      tf.dispose(Object.values(l.tensors));
    }

    it("a tensor whose data() rejects writes nothing", async () => {
      const good = tf.ones([1000]), bad = tf.ones([5]);
      bad.data = () => Promise.reject(new Error("device lost"));
      await assert.rejects(lib.saveCheckpoint(base, { config: { v: "new" }, tensors: { good, bad } }), /device lost/);
      await assertOldIntact();
      tf.dispose([good, bad]);
    });

    it("a failing rename leaves the previous checkpoint loadable and no temporary files", async () => {
      const t = { w: tf.tensor([9, 9, 9, 9]) };
      const realRename = fsp.rename;
      fsp.rename = async () => { throw Object.assign(new Error("EACCES: permission denied, rename"), { code: "EACCES" }); };
      try {
        await assert.rejects(lib.saveCheckpoint(base, { config: { v: "new" }, tensors: t }), /EACCES/);
      } finally {
        fsp.rename = realRename;
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });

    it("a failure after the new binary is in place (before the manifest) keeps the old checkpoint", async () => {
      const t = { w: tf.tensor([7, 7]) };
      const realRename = fsp.rename;
      let calls = 0;
      fsp.rename = async (...args) => {
        if (++calls === 2) throw Object.assign(new Error("EIO: crash before the manifest"), { code: "EIO" });
        return realRename(...args);
      };
      try {
        await assert.rejects(lib.saveCheckpoint(base, { config: { v: "new" }, tensors: t }), /EIO/);
      } finally {
        fsp.rename = realRename;
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });

    it("a successful replacement loads the new values and removes the old binary", async () => {
      const oldBin = JSON.parse(fs.readFileSync(base + ".json", "utf8")).binary;
      const t = { w: tf.tensor([4, 5]) };
      await lib.saveCheckpoint(base, { config: { v: "new" }, tensors: t });
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, `files: ${files}`);
      assert.ok(!files.includes(oldBin), "the old binary is gone");
      const l = await lib.loadCheckpoint(base);
      assert.deepEqual(l.config, { v: "new" });
      assert.deepEqual(Array.from(l.tensors.w.dataSync()), [4, 5]);
      tf.dispose([...Object.values(t), ...Object.values(l.tensors)]);
    });

    it("a read-only folder leaves the previous checkpoint loadable (skipped as root)", async function () {
      if (process.getuid && process.getuid() === 0) this.skip();
      const t = { w: tf.tensor([9, 9, 9, 9]) };
      fs.chmodSync(dir, 0o555);
      try {
        await assert.rejects(lib.saveCheckpoint(base, { config: { v: "new" }, tensors: t }));
      } finally {
        fs.chmodSync(dir, 0o755);
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });
  });

  it("model + optimizer state resume exactly from a checkpoint", async () => {
    const makeParams = () => ({
      "blocks.0.layer.log_step": tf.variable(tf.tensor(randn(4, 5), [4])),
      "decoder.kernel": tf.variable(tf.tensor(randn(6, 6), [3, 2])),
    });
    const grads = (s) => ({
      "blocks.0.layer.log_step": tf.tensor(randn(4, 50 + s), [4]),
      "decoder.kernel": tf.tensor(randn(6, 80 + s), [3, 2]),
    });
    const sched = lib.oneCycleCosine({ maxLr: 0.05, totalSteps: 8 });
    const run = (opt, from, to) => {
      for (let s = from; s < to; s++) { const g = grads(s); tf.dispose([opt.step(g, sched(s)), ...Object.values(g)]); }
    };
    const pa = makeParams();
    const a = new lib.AdamW(pa, lib.s4ParamGroups(), { clipNorm: 1 });
    run(a, 0, 4);
    const st = a.getState();
    const tensors = { ...pa };
    for (const [k, v] of Object.entries(st.tensors)) tensors[`optim.${k}`] = v;
    const base = path.join(dir, "resume");
    await lib.saveCheckpoint(base, { config, tensors, meta: { step: st.step } });
    tf.dispose(Object.values(st.tensors));
    run(a, 4, 8);

    const pb = makeParams();
    const b = new lib.AdamW(pb, lib.s4ParamGroups(), { clipNorm: 1 });
    const l = await lib.loadCheckpoint(base);
    const optTensors = {};
    for (const [k, v] of Object.entries(l.tensors)) {
      if (k.startsWith("optim.")) optTensors[k.slice(6)] = v;
      else pb[k].assign(v);
    }
    b.setState({ step: l.meta.step, tensors: optTensors });
    tf.dispose(Object.values(l.tensors));
    run(b, 4, 8);
    for (const k of Object.keys(pa)) assert.deepEqual(bits(pb[k]), bits(pa[k]), `${k} after resume`);
    a.dispose(); b.dispose();
    tf.dispose([...Object.values(pa), ...Object.values(pb)]);
  });

  it("rejects bad save arguments", async () => {
    const b = tf.tensor([true, false], [2], "bool");
    await assert.rejects(lib.saveCheckpoint(path.join(dir, "x"), { config: {}, tensors: { b } }), /tensors\["b"\] must have dtype float32 or int32, got bool/);
    await assert.rejects(lib.saveCheckpoint("", { config: {}, tensors: {} }), /filePath must be a non-empty string/);
    const cyc = {}; cyc.self = cyc;
    await assert.rejects(lib.saveCheckpoint(path.join(dir, "x"), { config: cyc, tensors: {} }), /checkpoint config must be JSON-serializable/);
    assert.deepEqual(fs.readdirSync(dir), []);
    b.dispose();
  });
});
