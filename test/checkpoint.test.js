// Checkpoint files: round trip, corruption with clear errors, atomic replacement, exact resume, version 1 files.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { forEachBackend, randn, tf, lib, assert } = require("./helpers");
const { checkShapes } = require("../dist/train/checkpoint");

function bits(t) {
  const d = t.dataSync();
  return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
}

forEachBackend("checkpoint", () => {
  let dir;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-test-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function sample() {
    const special = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4e38, -1.5]);
    return {
      "blocks.0.layer.Lambda_re": tf.tensor(randn(12, 1), [3, 4]),
      "decoder.kernel": tf.tensor(special, [2, 4]),
      counts: tf.tensor([1, -2, 2147483647, -2147483648], [4], "int32"),
      scalar: tf.scalar(0.25),
      empty: tf.zeros([0, 3]),
    };
  }
  /** The tensor file a checkpoint's manifest names (`<base>.<hash>.safetensors`). */
  const binOf = (base) => path.join(path.dirname(base), JSON.parse(fs.readFileSync(base + ".json", "utf8")).binary);
  const config = { model: "s4d", dModel: 16, layers: [1, 2], nested: { ok: true, none: null } };
  const meta = { epoch: 3, step: 120, rng: [123456789, 42] };

  it("round trips values bit for bit, with config and meta", async () => {
    const tensors = sample();
    const base = path.join(dir, "model");
    await lib.train.saveCheckpoint(base, { config, tensors, meta });
    assert.ok(fs.existsSync(base + ".json") && fs.existsSync(binOf(base)));
    const files = fs.readdirSync(dir).sort();
    assert.equal(files.length, 2, `temporary files left behind: ${files}`);
    assert.match(files[0], /^model\.[0-9a-f]{16}\.safetensors$/);
    assert.equal(files[1], "model.json");
    const loaded = await lib.train.loadCheckpoint(base);
    assert.deepEqual(loaded.config, config);
    assert.deepEqual(loaded.meta, meta);
    assert.deepEqual(Object.keys(loaded.tensors), Object.keys(tensors));
    for (const [n, t] of Object.entries(tensors)) {
      assert.deepEqual(loaded.tensors[n].shape, t.shape, `${n} shape`);
      assert.equal(loaded.tensors[n].dtype, t.dtype, `${n} dtype`);
      assert.deepEqual(bits(loaded.tensors[n]), bits(t), `${n} bits`);
      assert.notEqual(loaded.tensors[n], t);
    }
    checkShapes(Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.shape])), loaded.tensors);
    const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
    assert.equal(m.format, "s4-mamba-checkpoint");
    assert.equal(m.version, 2);
    assert.equal(m.byteLength, fs.statSync(binOf(base)).size);
    tf.dispose([...Object.values(tensors), ...Object.values(loaded.tensors)]);
  });

  it("checkShapes names missing, extra and mismatched tensors", () => {
    const loaded = { a: tf.zeros([2]), b: tf.zeros([3, 1]), extra: tf.zeros([1]) };
    assert.throws(
      () => checkShapes({ a: [2], b: [3], c: [4] }, loaded),
      /missing c; unexpected extra; shape mismatch b: expected \[3\], got \[3, 1\]/,
    );
    tf.dispose(Object.values(loaded));
  });

  /** Rewrites a version 2 tensor file's header with `f`, keeping its data, and updates the manifest to match. */
  function editHeader(base, f) {
    const file = binOf(base);
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    let header = null;
    try {
      header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8"));
    } catch {
      /* a test broke it on purpose */
    }
    const text = f(header) ?? JSON.stringify(header);
    const json = Buffer.from(text, "utf8");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const out = Buffer.concat([len, json, buf.subarray(8 + n)]);
    fs.writeFileSync(file, out);
    const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
    m.byteLength = out.length;
    m.checksum = require("node:crypto").createHash("sha256").update(out).digest("hex");
    fs.writeFileSync(base + ".json", JSON.stringify(m));
  }

  describe("corruption", () => {
    let base;
    beforeEach(async () => {
      base = path.join(dir, "c");
      const tensors = sample();
      await lib.train.saveCheckpoint(base, { config, tensors, meta });
      tf.dispose(Object.values(tensors));
    });
    const editManifest = (f) => {
      const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
      f(m);
      fs.writeFileSync(base + ".json", JSON.stringify(m));
    };

    it("truncated tensor file", async () => {
      const size = fs.statSync(binOf(base)).size;
      fs.truncateSync(binOf(base), size - 5);
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        new RegExp(`c\\.[0-9a-f]{16}\\.safetensors is corrupt: size is ${size - 5} bytes, the manifest expects ${size}`),
      );
    });
    it("flipped byte", async () => {
      const buf = fs.readFileSync(binOf(base));
      buf[buf.length - 7] ^= 0x10;
      fs.writeFileSync(binOf(base), buf);
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /c\.[0-9a-f]{16}\.safetensors is corrupt: checksum mismatch \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/,
      );
    });
    // A header that lies about the data (with a checksum that matches the lie) is still refused.
    const lie = (f) => editHeader(base, f);
    it("tensor bytes past the end of the data", async () => {
      lie((h) => {
        h["scalar"].data_offsets = [1000, 1004];
      });
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /not a valid safetensors file: tensor "scalar": data_offsets \[1000, 1004\] run past the end of the data \(\d+ bytes\)/,
      );
    });
    it("byte count inconsistent with the shape, bad shape, unknown dtype", async () => {
      lie((h) => {
        h["decoder.kernel"].shape = [2, 5];
      });
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /tensor "decoder\.kernel": data_offsets \[\d+, \d+\] hold 32 bytes, shape \[2, 5\] needs 40/,
      );
      lie((h) => {
        h["decoder.kernel"].shape = [2, -4];
      });
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /tensor "decoder\.kernel": shape must be an array of non-negative integers, got \[2,-4\]/,
      );
      lie((h) => {
        h["decoder.kernel"].shape = [2, 4];
        h["decoder.kernel"].dtype = "BF16";
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /tensor "decoder\.kernel": dtype must be "F32" or "I32", got "BF16"/);
    });
    it("gaps and overlaps between tensors", async () => {
      lie((h) => {
        delete h["counts"];
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /bytes \d+\.\.\d+ before tensor "scalar" belong to no tensor/);
      lie((h) => {
        h["scalar"].data_offsets = [48, 52];
      }); // inside decoder.kernel's bytes [48, 80]
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /tensor "decoder\.kernel" overlaps the tensor before it \(it begins at 48, before 52\)/,
      );
    });
    it("a header length past the end, and a header that is not JSON", async () => {
      lie(() => '{"a": 1}');
      await assert.rejects(lib.train.loadCheckpoint(base), /tensor "a" must be an object \{ dtype, shape, data_offsets \}/);
      lie(() => "[1, 2");
      await assert.rejects(lib.train.loadCheckpoint(base), /the header is not UTF-8 JSON/);
      const buf = fs.readFileSync(binOf(base));
      buf.writeBigUInt64LE(BigInt(buf.length));
      const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
      m.checksum = require("node:crypto").createHash("sha256").update(buf).digest("hex");
      fs.writeFileSync(binOf(base), buf);
      fs.writeFileSync(base + ".json", JSON.stringify(m));
      await assert.rejects(lib.train.loadCheckpoint(base), /header length \d+ runs past the end of the file/);
    });
    it("wrong format and version", async () => {
      editManifest((m) => {
        m.version = 3;
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /c\.json has unsupported version 3; this library reads versions 1 and 2/);
      editManifest((m) => {
        m.version = 2;
        m.format = "other";
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /format must be "s4-mamba-checkpoint", got "other"/);
    });
    it("a tensor file name that leaves the folder is refused", async () => {
      editManifest((m) => {
        m.binary = "../elsewhere.safetensors";
      });
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /binary must be a plain file name ending in \.safetensors in the manifest's folder, got "\.\.\/elsewhere\.safetensors"/,
      );
    });
    it("invalid JSON", async () => {
      fs.writeFileSync(base + ".json", '{"format": "s4-mamba-checkpoint", ');
      await assert.rejects(lib.train.loadCheckpoint(base), /c\.json is not valid JSON: /);
    });
    it("missing files", async () => {
      fs.unlinkSync(binOf(base));
      await assert.rejects(lib.train.loadCheckpoint(base), /checkpoint binary .*c\.[0-9a-f]{16}\.safetensors not found/);
      await assert.rejects(lib.train.loadCheckpoint(path.join(dir, "nothing")), /checkpoint manifest .*nothing\.json not found/);
    });
  });

  describe("atomic replacement", () => {
    let base, oldTensors;
    beforeEach(async () => {
      base = path.join(dir, "a");
      oldTensors = { w: tf.tensor([1, 2, 3]) };
      await lib.train.saveCheckpoint(base, { config: { v: "old" }, tensors: oldTensors, meta: { step: 1 } });
    });
    afterEach(() => tf.dispose(Object.values(oldTensors)));

    async function assertOldIntact() {
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, `leftover temporary files: ${files}`);
      assert.match(files[0], /^a\.[0-9a-f]{16}\.safetensors$/);
      assert.equal(files[1], "a.json");
      const l = await lib.train.loadCheckpoint(base);
      assert.deepEqual(l.config, { v: "old" });
      assert.deepEqual(Array.from(l.tensors.w.dataSync()), [1, 2, 3]);
      tf.dispose(Object.values(l.tensors));
    }

    it("a tensor whose data() rejects writes nothing", async () => {
      const good = tf.ones([1000]),
        bad = tf.ones([5]);
      bad.data = () => Promise.reject(new Error("device lost"));
      await assert.rejects(lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: { good, bad } }), /device lost/);
      await assertOldIntact();
      tf.dispose([good, bad]);
    });

    it("a failing rename leaves the previous checkpoint loadable and no temporary files", async () => {
      const t = { w: tf.tensor([9, 9, 9, 9]) };
      const realRename = fs.renameSync;
      fs.renameSync = () => {
        throw Object.assign(new Error("EACCES: permission denied, rename"), { code: "EACCES" });
      };
      try {
        await assert.rejects(lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: t }), /EACCES/);
      } finally {
        fs.renameSync = realRename;
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });

    it("a failure after the new tensor file is in place (before the manifest) keeps the old checkpoint", async () => {
      const t = { w: tf.tensor([7, 7]) };
      const realRename = fs.renameSync;
      let calls = 0;
      fs.renameSync = (...args) => {
        if (++calls === 2) throw Object.assign(new Error("EIO: crash before the manifest"), { code: "EIO" });
        return realRename(...args);
      };
      try {
        await assert.rejects(lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: t }), /EIO/);
      } finally {
        fs.renameSync = realRename;
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });

    it("a successful replacement loads the new values and removes the old binary", async () => {
      const oldBin = JSON.parse(fs.readFileSync(base + ".json", "utf8")).binary;
      const t = { w: tf.tensor([4, 5]) };
      await lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: t });
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, `files: ${files}`);
      assert.ok(!files.includes(oldBin), "the old binary is gone");
      const l = await lib.train.loadCheckpoint(base);
      assert.deepEqual(l.config, { v: "new" });
      assert.deepEqual(Array.from(l.tensors.w.dataSync()), [4, 5]);
      tf.dispose([...Object.values(t), ...Object.values(l.tensors)]);
    });

    it("a read-only folder leaves the previous checkpoint loadable (skipped as root)", async function () {
      if (process.getuid && process.getuid() === 0) this.skip();
      const t = { w: tf.tensor([9, 9, 9, 9]) };
      fs.chmodSync(dir, 0o555);
      try {
        await assert.rejects(lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: t }));
      } finally {
        fs.chmodSync(dir, 0o755);
      }
      await assertOldIntact();
      tf.dispose(Object.values(t));
    });
  });

  describe("version 1 files (raw .bin, offsets in the manifest)", () => {
    const V1 = path.join(__dirname, "fixtures", "checkpoint-v1");
    const copyV1 = (name) => {
      const m = JSON.parse(fs.readFileSync(path.join(V1, `${name}.json`), "utf8"));
      for (const f of [`${name}.json`, m.binary]) fs.copyFileSync(path.join(V1, f), path.join(dir, f));
      return path.join(dir, name);
    };

    it("a version 1 checkpoint written by the earlier code loads bit for bit", async () => {
      const before = tf.memory().numTensors;
      const l = await lib.train.loadCheckpoint(path.join(V1, "plain"));
      assert.equal(l.version, 1);
      assert.deepEqual(l.config, { note: "v1 fixture" });
      assert.deepEqual(l.meta, { step: 5 });
      assert.deepEqual(Object.keys(l.tensors), ["w", "counts", "scalar", "empty"]);
      const special = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4e38, -1.5]);
      assert.deepEqual(bits(l.tensors.w), Array.from(new Uint32Array(special.buffer)));
      assert.deepEqual(l.tensors.w.shape, [2, 4]);
      assert.equal(l.tensors.counts.dtype, "int32");
      assert.deepEqual(Array.from(l.tensors.counts.dataSync()), [1, -2, 2147483647, -2147483648]);
      assert.deepEqual(l.tensors.scalar.shape, []);
      assert.deepEqual(l.tensors.empty.shape, [0, 3]);
      tf.dispose(Object.values(l.tensors));
      assert.equal(tf.memory().numTensors, before);
    });

    it("the committed version 1 checkpoints still load", async () => {
      const root = path.join(__dirname, "..");
      const bases = [];
      for (const folder of ["checkpoints", path.join("notebooks", "runs")]) {
        if (!fs.existsSync(path.join(root, folder))) continue;
        for (const run of fs.readdirSync(path.join(root, folder))) {
          for (const f of fs.readdirSync(path.join(root, folder, run))) {
            if (/^(best|last)\.json$/.test(f)) bases.push(path.join(root, folder, run, f.slice(0, -5)));
          }
        }
      }
      assert.ok(bases.length >= 2, `found ${bases}`);
      for (const base of bases) {
        const m = await lib.train.readCheckpointManifest(base);
        const l = await lib.train.loadCheckpoint(base);
        assert.equal(l.version, m.version);
        if (m.version === 1)
          assert.deepEqual(
            Object.keys(l.tensors),
            m.tensors.map((e) => e.name),
            base,
          );
        tf.dispose(Object.values(l.tensors));
      }
    });

    it("corrupt version 1 manifests still give clear errors", async () => {
      const base = copyV1("plain");
      const edit = (f) => {
        const m = JSON.parse(fs.readFileSync(base + ".json", "utf8"));
        f(m);
        fs.writeFileSync(base + ".json", JSON.stringify(m));
      };
      edit((m) => {
        m.tensors[0].offset = m.byteLength;
      });
      await assert.rejects(
        lib.train.loadCheckpoint(base),
        /plain\.json is invalid: tensor "w" \(tensors\[0\]\): bytes \d+\.\.\d+ run past the end of the binary/,
      );
      edit((m) => {
        m.tensors[0].offset = 0;
        m.tensors[0].length = 4;
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /length 4 does not match shape \[2, 4\] \(expected 32 bytes\)/);
      edit((m) => {
        m.tensors[0].length = 32;
        m.tensors[1].name = "w";
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /duplicate name/);
      edit((m) => {
        m.tensors[1].name = "counts";
        m.tensors[1].dtype = "float64";
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /dtype must be "float32" or "int32", got "float64"/);
      edit((m) => {
        m.tensors[1].dtype = "int32";
        m.binary = "../elsewhere.bin";
      });
      await assert.rejects(lib.train.loadCheckpoint(base), /binary must be a plain file name ending in \.bin in the manifest's folder/);
    });

    it("saving over a version 1 checkpoint writes version 2 and removes the old .bin", async () => {
      const base = copyV1("plain");
      const t = { w: tf.tensor([4, 5]) };
      await lib.train.saveCheckpoint(base, { config: { v: "new" }, tensors: t });
      const files = fs.readdirSync(dir).sort();
      assert.equal(files.length, 2, `files: ${files}`);
      assert.match(files[0], /^plain\.[0-9a-f]{16}\.safetensors$/);
      const l = await lib.train.loadCheckpoint(base);
      assert.equal(l.version, 2);
      assert.deepEqual(Array.from(l.tensors.w.dataSync()), [4, 5]);
      tf.dispose([...Object.values(t), ...Object.values(l.tensors)]);
    });
  });

  describe("safetensors encoding", () => {
    const f32 = (values) => new Uint8Array(new Float32Array(values).buffer);
    it("round trips tensors and metadata, with the header padded to a multiple of 8", () => {
      /** @type {import("../dist").train.SafetensorsEntry[]} */
      const entries = [
        { name: "a.weight", dtype: "F32", shape: [2, 2], bytes: f32([1, 2, 3, 4]) },
        { name: "none", dtype: "F32", shape: [0], bytes: new Uint8Array(0) },
        { name: "n", dtype: "I32", shape: [], bytes: new Uint8Array(new Int32Array([-7]).buffer) },
      ];
      const data = lib.train.encodeSafetensors(entries, { format: "pt" });
      const n = Number(Buffer.from(data).readBigUInt64LE(0));
      assert.equal(n % 8, 0);
      const header = JSON.parse(Buffer.from(data.subarray(8, 8 + n)).toString("utf8"));
      assert.deepEqual(header["a.weight"], { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
      assert.deepEqual(header["n"].data_offsets, [16, 20]);
      assert.deepEqual(header.__metadata__, { format: "pt" });
      const back = lib.train.decodeSafetensors(data);
      assert.deepEqual(back.metadata, { format: "pt" });
      assert.deepEqual(
        back.tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.bytes)]),
        entries.map((t) => [t.name, t.dtype, t.shape, Array.from(t.bytes)]),
      );
    });
    it("refuses short files, bad metadata and unsupported dtypes with clear errors", () => {
      assert.throws(
        () => lib.train.decodeSafetensors(new Uint8Array(3), "x.safetensors"),
        /x\.safetensors is not a valid safetensors file: it has 3 bytes, fewer than the 8-byte header length/,
      );
      const enc = (header, tail = 0) => {
        const json = Buffer.from(JSON.stringify(header));
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(json.length));
        return new Uint8Array(Buffer.concat([len, json, Buffer.alloc(tail)]));
      };
      assert.throws(() => lib.train.decodeSafetensors(enc({ __metadata__: { a: 1 } })), /"__metadata__"\["a"\] must be a string, got 1/);
      assert.throws(
        () => lib.train.decodeSafetensors(enc({ x: { dtype: "F64", shape: [1], data_offsets: [0, 8] } }, 8)),
        /tensor "x": dtype must be "F32" or "I32", got "F64"/,
      );
      assert.throws(() => lib.train.decodeSafetensors(enc({}, 4)), /bytes 0\.\.4 at the end belong to no tensor/);
      assert.throws(
        () => lib.train.encodeSafetensors([{ name: "x", dtype: "F32", shape: [2], bytes: f32([1]) }]),
        /4 bytes do not fit shape \[2\]/,
      );
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
    const sched = lib.train.oneCycleCosine({ maxLr: 0.05, totalSteps: 8 });
    const run = (opt, from, to) => {
      for (let s = from; s < to; s++) {
        const g = grads(s);
        tf.dispose([opt.step(g, sched(s)), ...Object.values(g)]);
      }
    };
    const pa = makeParams();
    const a = new lib.train.AdamW(pa, lib.train.s4ParamGroups(), { clipNorm: 1 });
    run(a, 0, 4);
    const st = a.getState();
    const tensors = { ...pa };
    for (const [k, v] of Object.entries(st.tensors)) tensors[`optim.${k}`] = v;
    const base = path.join(dir, "resume");
    await lib.train.saveCheckpoint(base, { config, tensors, meta: { step: st.step } });
    tf.dispose(Object.values(st.tensors));
    run(a, 4, 8);

    const pb = makeParams();
    const b = new lib.train.AdamW(pb, lib.train.s4ParamGroups(), { clipNorm: 1 });
    const l = await lib.train.loadCheckpoint(base);
    /** @type {Record<string, import("@tensorflow/tfjs").Tensor>} */
    const optTensors = {};
    for (const [k, v] of Object.entries(l.tensors)) {
      if (k.startsWith("optim.")) optTensors[k.slice(6)] = v;
      else pb[k].assign(v);
    }
    b.setState({ step: /** @type {number} */ (l.meta.step), tensors: optTensors });
    tf.dispose(Object.values(l.tensors));
    run(b, 4, 8);
    for (const k of Object.keys(pa)) assert.deepEqual(bits(pb[k]), bits(pa[k]), `${k} after resume`);
    a.dispose();
    b.dispose();
    tf.dispose([...Object.values(pa), ...Object.values(pb)]);
  });

  it("rejects bad save arguments", async () => {
    const b = tf.tensor([true, false], [2], "bool");
    await assert.rejects(
      lib.train.saveCheckpoint(path.join(dir, "x"), { config: {}, tensors: { b } }),
      /tensors\["b"\] must have dtype float32 or int32, got bool/,
    );
    await assert.rejects(lib.train.saveCheckpoint("", { config: {}, tensors: {} }), /filePath must be a non-empty string/);
    const cyc = {};
    cyc.self = cyc;
    await assert.rejects(
      lib.train.saveCheckpoint(path.join(dir, "x"), { config: cyc, tensors: {} }),
      /checkpoint config must be JSON-serializable/,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
    b.dispose();
  });
});
