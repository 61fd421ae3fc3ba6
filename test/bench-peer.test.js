// The PyTorch peer of `npm run bench -- --peer` (bench/torch_peer.py): where PyTorch is missing the
// bench says so in one line and still succeeds; where it is installed, the peer prints a row for
// every op, and its S4 kernel and layer equal the library's kernelDPLR and causal convolution on
// the same parameters. Timings are never asserted.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { forEachBackend, assertClose, tf, lib, assert, rng, randn, skipSuite } = require("./helpers");

const ROOT = path.resolve(__dirname, "..");
const BENCH = path.join(ROOT, "dist", "cli", "bench.js");
const PEER = path.join(ROOT, "bench", "torch_peer.py");
/** The interpreter the bench runs the peer with. */
const PYTHON = process.env.S4_PEER_PYTHON || "/usr/bin/python3";

/** A short bench run with the peer: one fast op, quick plan, no reference. */
const QUICK_PEER_ARGS = ["--quick", "--only", "depthwise_conv1d", "--backend", "cpu", "--no-reference", "--peer"];

function bench(args, env, json) {
  return spawnSync(process.execPath, [BENCH, ...args, "--json", json], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
}

function peer(args) {
  return spawnSync(PYTHON, [PEER, ...args], { cwd: ROOT, encoding: "utf8" });
}

/** Whether `python` can import torch (false when it does not exist). */
const hasTorch = (python) => spawnSync(python, ["-c", "import torch"], { encoding: "utf8" }).status === 0;

function skipWithoutTorch(ctx) {
  if (hasTorch(PYTHON)) return;
  skipSuite(ctx, {
    kind: "PyTorch peer suites",
    why: `${PYTHON} cannot import torch`,
    enable: "apt-get install python3-torch, or set S4_PEER_PYTHON to a Python that has torch",
    requireVar: "S4_REQUIRE_TORCH",
  });
}

let dir;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-peer-test-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("npm run bench -- --peer without PyTorch: one line, and the bench still succeeds", function () {
  this.timeout(120000);

  function checkSkipped(python, why) {
    const json = path.join(dir, "skipped.json");
    const r = bench(QUICK_PEER_ARGS, { S4_PEER_PYTHON: python }, json);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout.split("\n").filter((l) => l.includes("PyTorch peer skipped"));
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], why);
    assert.match(lines[0], /apt-get install python3-torch/);
    assert.match(r.stdout, /depthwise_conv1d\s+cpu\s+b=16 d=128 l=784 k=4/);
    assert.doesNotMatch(r.stdout, /ours\/PyTorch/, "no PyTorch columns without PyTorch");
    const {
      results: [row],
    } = JSON.parse(fs.readFileSync(json, "utf8"));
    assert.equal(row.peer, undefined);
    assert.equal(row.peer_fwd_bwd_ms, undefined);
  }

  it("S4_PEER_PYTHON naming no interpreter", () => {
    checkSkipped(path.join(dir, "no-such-python"), /no-such-python was not found/);
  });

  it("S4_PEER_PYTHON naming a Python without torch (python3 on PATH, where it has none)", function () {
    if (hasTorch("python3") || spawnSync("python3", ["--version"]).status !== 0) this.skip();
    checkSkipped("python3", /PyTorch is not installed for /);
  });
});

describe("bench/torch_peer.py", function () {
  this.timeout(120000);
  before(function () {
    skipWithoutTorch(this);
  });

  const OPS = ["s4_layer", "causal_conv", "selective_scan", "depthwise_conv1d", "mamba_block"];

  it("--small --quick --threads 1: one valid JSON row for every op", () => {
    const r = peer(["--small", "--quick", "--threads", "1"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((x) => x.op),
      OPS,
    );
    for (const x of rows) {
      assert.equal(typeof x.shape, "string");
      for (const key of ["fwd_ms", "fwd_bwd_ms"]) assert.ok(Number.isFinite(x[key]) && x[key] > 0, `${x.op} ${key}: ${x[key]}`);
      for (const side of ["fwd", "fwd_bwd"])
        assert.ok(Number.isInteger(x.reps[side]) && x.reps[side] >= 3, `${x.op} reps: ${JSON.stringify(x.reps)}`);
      assert.match(x.torch, /^\d+\.\d+/);
      assert.equal(x.device, "cpu");
      assert.equal(x.threads, 1);
    }
  });

  for (const [args, message] of /** @type {[string[], RegExp][]} */ ([
    [["--only", "fft"], /unknown op 'fft', expected one of s4_layer/],
    [["--threads", "0"], /--threads: expected a whole number of threads from 1 to 256/],
    [["--only", "causal_conv", "--dims", "k=4"], /--dims: causal_conv has no size k/],
  ])) {
    it(`${args.join(" ")} is a usage error: exit status 2`, () => {
      const r = peer(args);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it("npm run bench -- --peer: PyTorch's times beside ours, and the ratio", () => {
    const json = path.join(dir, "peer.json");
    const r = bench(QUICK_PEER_ARGS, { S4_PEER_PYTHON: PYTHON, S4_THREADS: "1" }, json);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const {
      results: [row],
    } = JSON.parse(fs.readFileSync(json, "utf8"));
    for (const key of ["peer_fwd_ms", "peer_fwd_bwd_ms"]) assert.ok(Number.isFinite(row[key]) && row[key] > 0, `${key}: ${row[key]}`);
    assert.match(row.peer, /^pytorch \S+ cpu, 1 thread$/);
    assert.match(r.stdout, /ours\/PyTorch fwd\+bwd/);
    const line = r.stdout.split("\n").find((l) => l.startsWith("depthwise_conv1d"));
    assert.match(line, /\d+\.\d\d×\s*$/);
    assert.doesNotMatch(r.stdout, /PyTorch peer skipped/);
  });
});

/**
 * DPLR parameters with one mode of each conjugate pair, from HiPPO-LegS (Λ, P, B) and seeded
 * random C̃ and steps: (h, m) each, as nested arrays for the peer's JSON.
 */
function halfModeParams(h, N, seed) {
  const hippo = lib.makeDPLRHiPPO(N);
  const keep = [...hippo.Lambda.im.keys()].filter((i) => hippo.Lambda.im[i] > 0);
  assert.equal(keep.length, N / 2, "HiPPO-LegS modes come in conjugate pairs");
  const tiled = (v) => Array.from({ length: h }, () => keep.map((i) => v[i]));
  const c = randn(2 * h * keep.length, seed);
  const next = rng(seed + 1);
  const m = keep.length;
  return {
    Lambda_re: tiled(hippo.Lambda.re),
    Lambda_im: tiled(hippo.Lambda.im),
    P_re: tiled(hippo.P.re),
    P_im: tiled(hippo.P.im),
    B_re: tiled(hippo.B.re),
    B_im: tiled(hippo.B.im),
    C_re: Array.from({ length: h }, (_, i) => Array.from(c.subarray(i * m, (i + 1) * m))),
    C_im: Array.from({ length: h }, (_, i) => Array.from(c.subarray((h + i) * m, (h + i + 1) * m))),
    log_dt: Array.from({ length: h }, () => Math.log(0.02) + next() * (Math.log(0.5) - Math.log(0.02))),
  };
}

/** The N-mode form the library takes: each half-mode (h, m) array followed by its conjugate. */
function withConjugates(re, im) {
  const full = (rows, sign) => rows.map((row, i) => [...row, ...(sign < 0 ? im : re)[i].map((x) => sign * x)]);
  return { re: tf.tensor2d(full(re, 1)), im: tf.tensor2d(full(im, -1)) };
}

describe("bench/torch_peer.py computes the library's S4 kernel and layer", function () {
  this.timeout(120000);
  const h = 3,
    N = 8,
    L = 16,
    b = 2; // L even: the point o = −1 is among the roots
  let spec, torchOut, torchAllModes;
  before(function () {
    skipWithoutTorch(this);
    const params = halfModeParams(h, N, 7);
    const u = randn(b * h * L, 11);
    spec = {
      L,
      ...params,
      u: Array.from({ length: b }, (_, i) =>
        Array.from({ length: h }, (_, j) => Array.from(u.subarray((i * h + j) * L, (i * h + j + 1) * L))),
      ),
      D: Array.from(randn(h, 12)),
    };
    const file = path.join(dir, "s4-params.json");
    fs.writeFileSync(file, JSON.stringify(spec));
    const r = peer(["--kernel-check", file]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    torchOut = JSON.parse(r.stdout);
    // The same system with every mode spelled out (Annotated S4's form): the peer without pairs.
    const full = (re, im) => ({ re: re.map((row) => [...row, ...row]), im: im.map((row) => [...row, ...row.map((x) => -x)]) });
    const all = { L, pairs: false, log_dt: spec.log_dt };
    for (const name of ["Lambda", "P", "B", "C"]) {
      const f = full(spec[`${name}_re`], spec[`${name}_im`]);
      all[`${name}_re`] = f.re;
      all[`${name}_im`] = f.im;
    }
    const fileAll = path.join(dir, "s4-params-all-modes.json");
    fs.writeFileSync(fileAll, JSON.stringify(all));
    const rAll = peer(["--kernel-check", fileAll]);
    assert.equal(rAll.status, 0, rAll.stderr + rAll.stdout);
    torchAllModes = JSON.parse(rAll.stdout);
  });

  forEachBackend("kernelDPLR and the FFT convolution", () => {
    it("K (h, L) and y = K ⊛ u + D·u (b, h, L) within 1e-4", () => {
      const before = tf.memory().numTensors;
      const [K, y] = tf.tidy(() => {
        const P = withConjugates(spec.P_re, spec.P_im);
        const params = {
          Lambda: withConjugates(spec.Lambda_re, spec.Lambda_im),
          P,
          Q: P,
          B: withConjugates(spec.B_re, spec.B_im),
          C: withConjugates(spec.C_re, spec.C_im),
        };
        const K = lib.kernelDPLR(params, tf.exp(tf.tensor1d(spec.log_dt)), L); // (h, L)
        const u = tf.tensor3d(spec.u); // (b, h, L)
        const y = tf.add(lib.causalConvolution(u, K), tf.mul(u, tf.reshape(tf.tensor1d(spec.D), [h, 1])));
        return [K, y];
      });
      const largest = (rows) => Math.max(...rows.flat(2).map(Math.abs));
      const scale = (rows) => Math.max(1, largest(rows));
      assert.ok(largest(torchOut.K) > 1e-2, `a kernel that is not nearly zero: max |K| ${largest(torchOut.K)}`);
      assertClose(K.dataSync(), torchOut.K.flat(), 1e-4 * scale(torchOut.K), 0, "K");
      assertClose(y.dataSync(), torchOut.y.flat(2), 1e-4 * scale(torchOut.y), 0, "y");
      // the library's conjugate-pair form on the half modes, and the peer's all-modes form
      const Kpairs = tf.tidy(() => {
        const c = (name) => ({ re: tf.tensor2d(spec[`${name}_re`]), im: tf.tensor2d(spec[`${name}_im`]) });
        const P = c("P");
        return lib.kernelDPLR({ Lambda: c("Lambda"), P, Q: P, B: c("B"), C: c("C") }, tf.exp(tf.tensor1d(spec.log_dt)), L, undefined, {
          conjugatePairs: true,
        });
      });
      assertClose(Kpairs.dataSync(), torchOut.K.flat(), 1e-4 * scale(torchOut.K), 0, "K with conjugatePairs");
      assertClose(K.dataSync(), torchAllModes.K.flat(), 1e-4 * scale(torchOut.K), 0, "K of the peer's all-modes form");
      tf.dispose([K, y, Kpairs]);
      assert.equal(tf.memory().numTensors, before, "no tensors left behind");
    });
  });
});
