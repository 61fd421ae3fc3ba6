// The portable GPU bundle (npm run gpu-bundle): built into a temporary folder, then run the way a
// GPU machine runs it — through run.sh, with the bundle's own Node (a `node` first on PATH that
// only fails shows that no other Node is used) — on this machine's software Vulkan driver.
const { spawnSync } = require("node:child_process");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { skipSuite } = require("./skip-notice");
const { vulkanDriverProblem } = require("../dist/vulkan-driver");
const { probeAdapterQuietly } = require("../dist/webgpu-adapter-probe");

const BUILDER = path.join(__dirname, "..", "dist", "cli", "gpu-bundle.js");
const MAX_BYTES = 60 * 1024 * 1024;
const SYSTEM_NODE_MARK = "a node from PATH was started";
/** Small enough to train in well under a minute on lavapipe, yet a real run of every stage. */
const TINY = ["--quick", "--epochs", "1", "--train-limit", "64", "--val-limit", "32", "--test-limit", "32"];

const folderBytes = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .reduce((sum, e) => sum + (e.isDirectory() ? folderBytes(path.join(dir, e.name)) : fs.lstatSync(path.join(dir, e.name)).size), 0);

/** Every file under dir with its size and modification time, to see that nothing changed there. */
const listing = (dir) =>
  fs
    .readdirSync(dir, { recursive: true })
    .sort()
    .map((f) => {
      const st = fs.lstatSync(path.join(dir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });

describe("GPU bundle: built, then trained through run.sh with its own Node", function () {
  this.timeout(20 * 60 * 1000);
  let tmp, bundle, unpackDir, env, adapter;

  const runSh = (args, more = {}) => {
    const r = spawnSync(path.join(bundle, "run.sh"), args, { cwd: tmp, encoding: "utf8", env: { ...env, ...more } });
    const all = `${r.stdout}\n${r.stderr}`;
    assert.ok(!all.includes(SYSTEM_NODE_MARK), `run.sh ${args.join(" ")} started a node from PATH:\n${all}`);
    return { ...r, all };
  };

  before(async function () {
    const skip = (why, enable) => skipSuite(this, { kind: "GPU bundle test", why, enable, requireVar: "S4_REQUIRE_WEBGPU" });
    if (process.platform !== "linux" || process.arch !== "x64") {
      return skip(`the bundle runs on Linux x86-64, this is ${process.platform} ${process.arch}`, "run it on Linux x86-64");
    }
    const vulkan = "install a Vulkan driver (Debian 12 without a GPU: libvulkan1 and mesa-vulkan-drivers from bookworm-backports)";
    const noDriver = vulkanDriverProblem();
    if (noDriver) return skip(`no WebGPU adapter: ${noDriver}`, vulkan);
    const seen = await probeAdapterQuietly();
    if (!seen.adapter) return skip(`no WebGPU adapter: ${seen.error ?? "Dawn found no Vulkan device"}`, vulkan);
    adapter = seen.adapter;

    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "s4-gpu-bundle-test-"));
    bundle = path.join(tmp, "bundle");
    const build = spawnSync(process.execPath, [BUILDER, "--out", bundle], { encoding: "utf8" });
    if (build.status === 3) {
      const why = build.stderr.trim().split("\n").pop();
      return skip(
        `the bundle could not be built without a download (${why})`,
        "run it once where the npm registry and Debian's archive can be reached (downloads are kept in build/gpu-bundle-cache)",
      );
    }
    assert.equal(build.status, 0, `npm run gpu-bundle failed:\n${build.stdout}\n${build.stderr}`);

    const fakeBin = path.join(tmp, "fake-bin");
    fs.mkdirSync(fakeBin);
    fs.writeFileSync(path.join(fakeBin, "node"), `#!/bin/sh\necho "${SYSTEM_NODE_MARK}: $0" >&2\nexit 97\n`, { mode: 0o755 });
    unpackDir = path.join(tmp, "unpacked");
    env = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, S4_BUNDLE_UNPACK_DIR: unpackDir };
    for (const name of ["S4_ALLOW_SOFTWARE_ADAPTER", "S4_BACKEND"]) delete env[name];
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("weighs at most 60 MiB and holds run.sh, the payload and its checksums", function () {
    const bytes = folderBytes(bundle);
    assert.ok(bytes <= MAX_BYTES, `the bundle is ${(bytes / 2 ** 20).toFixed(1)} MiB, more than 60 MiB`);
    const files = fs.readdirSync(bundle).sort();
    assert.deepEqual(files, ["bundle.json", "payload-app.tar.gz", "payload-node.tar.gz", "payload.id", "payload.sha256", "run.sh"]);
    assert.ok(fs.statSync(path.join(bundle, "run.sh")).mode & 0o111, "run.sh is executable");
    assert.ok(!fs.readdirSync(tmp).some((f) => f.startsWith("bundle.tmp-")), "no half-built folder is left beside it");
  });

  it("names the tools when given a bad one, before unpacking anything", function () {
    const r = runSh(["trian", "--quick"]);
    assert.equal(r.status, 2, r.all);
    assert.match(r.stderr, /unknown tool "trian"; expected one of: train, sample, bench/);
    assert.ok(!fs.existsSync(unpackDir), "nothing was unpacked");
  });

  it("refuses a software adapter unless allowed, saying what it found and how to allow it", function () {
    if (!adapter.software) this.skip(); // a real GPU here: nothing to refuse
    const out = path.join(tmp, "refused");
    const r = runSh(["train", ...TINY, "--out", out]);
    assert.equal(r.status, 3, r.all);
    assert.match(r.stdout, /gpu-bundle: adapter: vendor "[^"]*", architecture "[^"]*", device "[^"]*", description "[^"]+"/);
    assert.match(r.stderr, /refusing the software adapter ".+": it runs shaders on the CPU/);
    assert.match(r.stderr, /run\.sh train --allow-software-adapter .*S4_ALLOW_SOFTWARE_ADAPTER=1/);
    assert.ok(!fs.existsSync(out), "no training started");
  });

  it("trains on webgpu with the bundled Node, then resumes in a second run without unpacking again", function () {
    const out = path.join(tmp, "runs", "x");
    const first = runSh(["train", ...TINY, "--out", out, "--allow-software-adapter"]);
    assert.equal(first.status, 0, first.all);
    const [, execPath] = first.stdout.match(/gpu-bundle: node v[\d.]+ at (\S+);/) ?? [];
    assert.ok(
      execPath && execPath.startsWith(unpackDir + path.sep),
      `the tools ran on ${execPath}, not the bundle's Node under ${unpackDir}`,
    );
    assert.match(first.stdout, /^backend: webgpu \(S4_BACKEND\)$/m);
    const s1 = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(s1.backend, "webgpu");
    assert.equal(typeof s1.test_accuracy, "number");
    assert.ok(Number.isFinite(s1.test_accuracy));
    assert.ok(s1.steps > 0, `steps ${s1.steps}`);
    const bundled = JSON.parse(fs.readFileSync(path.join(bundle, "bundle.json"), "utf8")).node.split(" ")[0];
    assert.equal(s1.run.node, bundled, "the run record names the bundle's Node");
    // the bundle carries the host kernels' worker script, so they run on every core there too
    assert.equal(s1.run.host_threads, require("node:os").availableParallelism(), "host threads of the bundled run");

    const [payload] = fs.readdirSync(unpackDir).filter((f) => !f.startsWith("."));
    const before = listing(path.join(unpackDir, payload));
    const second = runSh(["train", ...TINY, "--epochs", "2", "--out", out, "--resume"], { S4_ALLOW_SOFTWARE_ADAPTER: "1" });
    assert.equal(second.status, 0, second.all);
    assert.doesNotMatch(second.stderr, /unpacking/, "the payload is unpacked once");
    assert.match(second.stdout, /resumed after epoch 1/);
    const s2 = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
    assert.equal(s2.resumed_from_epoch, 1);
    assert.ok(s2.steps > s1.steps, `steps ${s1.steps} then ${s2.steps}`);
    assert.deepEqual(listing(path.join(unpackDir, payload)), before, "nothing is written into the unpacked payload");
  });
});

describe("scripts/gpu-session.sh: a lent-GPU sitting as one command, on the bundle", function () {
  this.timeout(20 * 60 * 1000);
  const SESSION = path.join(__dirname, "..", "scripts", "gpu-session.sh");
  const session = (args) =>
    spawnSync("bash", [SESSION, ...args], { encoding: "utf8", env: { ...process.env, S4_ALLOW_SOFTWARE_ADAPTER: "" } });

  it("names what is missing or malformed, with exit status 2", function () {
    for (const [args, message] of /** @type {[string[], RegExp][]} */ ([
      [[], /--bundle DIR is required/],
      [["--bundle", os.tmpdir()], /has no run\.sh/],
      [["--bundle", os.tmpdir(), "--bogus"], /unknown flag "--bogus"/],
    ])) {
      const r = session(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it("two sittings, the second resumed from the first's run.tar, leave six files and a finished run", function () {
    const bundle = path.join(__dirname, "..", "build", "gpu-bundle-test-session");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "s4-gpu-session-"));
    const build = spawnSync(process.execPath, [BUILDER, "--out", bundle], { encoding: "utf8" });
    if (build.status === 3 || vulkanDriverProblem()) {
      skipSuite(this, {
        kind: "GPU bundle test",
        why: build.stderr.trim().split("\n").pop() || vulkanDriverProblem(),
        enable: "install a Vulkan driver and reach the npm registry",
        requireVar: "S4_REQUIRE_WEBGPU",
      });
      return;
    }
    assert.equal(build.status, 0, build.stderr);
    const tiny = [
      "--",
      "--d-model",
      "8",
      "--n-layers",
      "1",
      "--n",
      "4",
      "--bsz",
      "8",
      "--train-limit",
      "64",
      "--val-limit",
      "16",
      "--test-limit",
      "16",
      "--epochs",
      "2",
    ];
    const common = [
      "--bundle",
      bundle,
      "--preset",
      "annotated-s4-classification",
      "--allow-software-adapter",
      "--bench-steps",
      "3",
      "--bench-bsz",
      "1",
    ];
    // A limit of a fraction of a second: the first sitting stops after its first step.
    const first = session([...common, "--out", path.join(tmp, "one"), "--minutes", "0.00001", "--no-bench", ...tiny]);
    assert.equal(first.status, 0, first.stderr);
    const s1 = JSON.parse(fs.readFileSync(path.join(tmp, "one", "summary.json"), "utf8"));
    assert.equal(s1.steps, 1);
    assert.equal(s1.stopped_by_time_limit, true);
    const second = session([
      ...common,
      "--out",
      path.join(tmp, "two"),
      "--minutes",
      "5",
      "--resume-from",
      path.join(tmp, "one", "run.tar"),
      ...tiny,
    ]);
    assert.equal(second.status, 0, second.stderr);
    const files = fs.readdirSync(path.join(tmp, "two")).sort();
    assert.deepEqual(files, ["bench-step.json", "metrics.jsonl", "run.tar", "session.log", "summary.json", "train.log"]);
    const s2 = JSON.parse(fs.readFileSync(path.join(tmp, "two", "summary.json"), "utf8"));
    assert.equal(s2.steps, 16, "the second sitting finishes both epochs of 8 steps");
    assert.equal(s2.resumed_from_epoch, 0);
    assert.equal(s2.stopped_by_time_limit, false);
    assert.match(fs.readFileSync(path.join(tmp, "two", "session.log"), "utf8"), /gpu-bundle: adapter: /);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});

describe("npm run gpu-bundle: bad command lines", function () {
  const builder = (args) => spawnSync(process.execPath, [BUILDER, ...args], { encoding: "utf8" });

  it("names the flag that is missing, unknown or malformed, with exit status 2", function () {
    for (const [args, message] of /** @type {[string[], RegExp][]} */ ([
      [[], /--out <dir> is required/],
      [["--out"], /--out needs a value/],
      [["--out", "x", "--bogus"], /unknown flag --bogus/],
      [["--out", "x", "--node-version", "20.x"], /--node-version must look like 20\.19\.0, got "20\.x"/],
    ])) {
      const r = builder(args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run gpu-bundle -- --out <dir>/);
    }
  });

  it("does not replace a folder that is not a bundle", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s4-gpu-bundle-out-"));
    try {
      fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
      const r = builder(["--out", dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /exists and is not a GPU bundle; choose another folder or remove it/);
      assert.deepEqual(fs.readdirSync(dir), ["notes.txt"]);
      assert.deepEqual(
        fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${path.basename(dir)}.tmp-`)),
        [],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
