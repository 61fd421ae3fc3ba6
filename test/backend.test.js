// Backend choice, and the library on WebGPU where an adapter exists (Mesa lavapipe in CI).
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const os = require("node:os");
const { FIXTURES, assertClose, randn, tf, lib, assert, describeWebGPU } = require("./helpers");
const { vulkanDriverProblem } = require("../dist/vulkan-driver");
const { parseFixtureFile, runFixtureCase } = require("../dist/fixtures");

const ROOT = path.resolve(__dirname, "..");
const node = (code, env = {}) =>
  spawnSync(process.execPath, ["-e", code], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });

describe("backend choice", () => {
  it("chooseBackend picks a working backend and says which and why in one line", () => {
    const r = node("require('./dist').chooseBackend().then(c => console.log(JSON.stringify(c)))", { S4_BACKEND: "" });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const choice = JSON.parse(lines.pop());
    assert.ok(["tensorflow-gpu", "tensorflow", "webgpu", "wasm"].includes(choice.name), `chose ${choice.name}`);
    const log = lines.filter((l) => l.startsWith("[s4-mamba] backend:"));
    assert.equal(log.length, 1, `one log line, got: ${r.stdout}`);
    assert.match(log[0], new RegExp(`backend: ${choice.name} \\(`));
    if (choice.name !== "tensorflow-gpu") assert.match(log[0], /skipped tensorflow-gpu: /);
  });

  it("S4_BACKEND forces a backend; an unknown or unavailable one is a clear error", () => {
    const ok = node("require('./dist').chooseBackend({quiet: true}).then(c => console.log(c.name, c.reason))", { S4_BACKEND: "cpu" });
    assert.equal(ok.stdout.trim(), "cpu S4_BACKEND");
    const bad = node("require('./dist').chooseBackend().catch(e => console.log(e.message))", { S4_BACKEND: "tpu" });
    assert.match(bad.stdout, /S4_BACKEND: unknown backend "tpu", expected one of tensorflow-gpu, tensorflow, webgpu, wasm, cpu/);
  });

  it("useBackend switches, and refuses a missing package with the reason", async () => {
    const c = await lib.useBackend("cpu", { quiet: true });
    assert.equal(tf.getBackend(), "cpu");
    assert.deepEqual(lib.currentBackend(), c);
    await assert.rejects(() => lib.useBackend("nope"), /useBackend\(name\): unknown backend "nope"/);
    let hasNode = true;
    try {
      require.resolve("@tensorflow/tfjs-node");
    } catch {
      hasNode = false;
    }
    if (!hasNode)
      await assert.rejects(
        () => lib.useBackend("tensorflow"),
        /backend "tensorflow" is not available here: Cannot find module '@tensorflow\/tfjs-node'/,
      );
  });
});

// Lines Dawn writes to stderr from native code (loader messages, lowered limits, source locations).
const DAWN_NOISE = /Warning:|Couldn't load Vulkan|vkCreateInstance|\.cpp:\d+/;
// Prints the backend line, then whether Dawn's native module was loaded into this process.
const CHOOSE_AND_REPORT_DAWN =
  "require('./dist').chooseBackend().then(c => console.log('@dawn', " +
  "Object.keys(require.cache).some((f) => f.endsWith('dawn.node')), c.name))";
const BACKEND_LINE = "[s4-mamba] backend:";

describe("WebGPU probe stays quiet", () => {
  let dir, noDriver;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vulkan-probe-"));
    noDriver = path.join(dir, "none.json"); // VK_DRIVER_FILES pointing here: no driver at all
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A folder tree for vulkanDriverProblem: lib/ with or without the loader, share/ for manifests. */
  function tree(name, { loader, manifests = [] }) {
    const root = path.join(dir, name);
    const icd = path.join(root, "share", "vulkan", "icd.d");
    fs.mkdirSync(path.join(root, "lib"), { recursive: true });
    fs.mkdirSync(icd, { recursive: true });
    if (loader) fs.writeFileSync(path.join(root, "lib", "libvulkan.so.1"), "");
    for (const m of manifests) fs.writeFileSync(path.join(icd, m), "{}");
    const search = {
      platform: /** @type {const} */ ("linux"),
      home: path.join(root, "home"),
      libraryDirs: [],
      ldCache: path.join(root, "none"),
      sysconfDirs: [],
    };
    const env = {
      LD_LIBRARY_PATH: path.join(root, "lib"),
      XDG_CONFIG_DIRS: path.join(root, "etc"),
      XDG_DATA_DIRS: path.join(root, "share"),
    };
    const check = (more = {}) => vulkanDriverProblem({ ...search, env: { ...env, ...more } });
    return { icd, check };
  }

  it("vulkanDriverProblem finds the loader and a manifest where the Vulkan loader looks", () => {
    const none = tree("none", { loader: false });
    assert.match(none.check(), /^no Vulkan loader \(libvulkan\.so\.1 is not in LD_LIBRARY_PATH/);
    const bare = tree("bare", { loader: true });
    assert.match(
      bare.check(),
      /^no Vulkan driver \(no ICD file in vulkan\/icd\.d under ~\/\.config, .*bare\/etc, ~\/\.local\/share, .*bare\/share\)$/,
    );
    const lvp = tree("lvp", { loader: true, manifests: ["lvp_icd.json"] });
    assert.equal(lvp.check(), null);
    // The dynamic linker's cache counts as well as the folders.
    const cache = path.join(dir, "ld.so.cache");
    fs.writeFileSync(cache, "\0glibc-ld.so.cache\0libvulkan.so.1\0");
    const search = { platform: /** @type {const} */ ("linux"), libraryDirs: [], env: { VK_DRIVER_FILES: lvp.icd } };
    assert.equal(vulkanDriverProblem({ ...search, ldCache: cache }), null);
    assert.match(vulkanDriverProblem({ ...search, ldCache: path.join(dir, "no-cache") }), /^no Vulkan loader/);
  });

  it("vulkanDriverProblem honours VK_DRIVER_FILES, VK_ICD_FILENAMES and VK_ADD_DRIVER_FILES", () => {
    const lvp = tree("lvp2", { loader: true, manifests: ["lvp_icd.json", "notes.txt"] });
    const bare = tree("bare2", { loader: true });
    const manifest = path.join(lvp.icd, "lvp_icd.json");
    const missing = path.join(dir, "missing.json");
    // An override replaces the default folders, even where those hold a manifest.
    assert.equal(lvp.check({ VK_DRIVER_FILES: missing }), `no Vulkan driver (no ICD file in VK_DRIVER_FILES=${missing})`);
    assert.equal(lvp.check({ VK_ICD_FILENAMES: missing }), `no Vulkan driver (no ICD file in VK_ICD_FILENAMES=${missing})`);
    // VK_DRIVER_FILES wins over the older name; a list may hold files and folders.
    assert.equal(bare.check({ VK_DRIVER_FILES: `${missing}:${manifest}`, VK_ICD_FILENAMES: missing }), null);
    assert.equal(bare.check({ VK_DRIVER_FILES: lvp.icd }), null);
    // Only .json files count as manifests.
    const notes = path.join(lvp.icd, "notes.txt");
    assert.match(bare.check({ VK_DRIVER_FILES: notes }), /no ICD file in VK_DRIVER_FILES=/);
    // VK_ADD_DRIVER_FILES adds to the default folders.
    assert.equal(bare.check({ VK_ADD_DRIVER_FILES: manifest }), null);
    assert.match(bare.check({ VK_ADD_DRIVER_FILES: missing }), /under .* or VK_ADD_DRIVER_FILES\)$/);
    // Elsewhere Dawn uses Metal or D3D12: nothing to check.
    assert.equal(vulkanDriverProblem({ platform: "darwin", env: {} }), null);
  });

  it("without a Vulkan driver, chooseBackend never loads Dawn: no warnings, one line saying why", function () {
    if (process.platform !== "linux") this.skip();
    const r = node(CHOOSE_AND_REPORT_DAWN, { S4_BACKEND: "", VK_DRIVER_FILES: noDriver });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "nothing on stderr");
    const lines = r.stdout.trim().split("\n");
    const log = lines.filter((l) => l.startsWith(BACKEND_LINE));
    assert.equal(log.length, 1, r.stdout);
    assert.match(log[0], /; webgpu: no Vulkan driver \(no ICD file in VK_DRIVER_FILES=[^)]*none\.json\)/);
    assert.match(lines.pop(), /^@dawn false (wasm|tensorflow|tensorflow-gpu)$/);
  });

  it("with this machine's drivers, the automatic choice prints no Dawn warnings unless it keeps WebGPU", () => {
    const r = node(CHOOSE_AND_REPORT_DAWN, { S4_BACKEND: "" });
    assert.equal(r.status, 0, r.stderr);
    const [, dawnLoaded, chosen] = r.stdout.trim().split("\n").pop().split(" ");
    const log = r.stdout.split("\n").filter((l) => l.startsWith(BACKEND_LINE));
    assert.equal(log.length, 1, r.stdout);
    if (chosen === "webgpu") return; // a real GPU: Dawn is in use, its messages are fair
    assert.equal(dawnLoaded, "false", "Dawn loaded into the process that did not keep WebGPU");
    const noise = r.stderr.split("\n").filter((l) => DAWN_NOISE.test(l));
    assert.deepEqual(noise, [], "Dawn's warnings on stderr");
    if (["wasm", "cpu"].includes(chosen)) assert.match(log[0], /; webgpu: [^;]+/, "no reason for skipping webgpu");
  });

  it("useBackend('webgpu') without a driver names the reason and stays quiet", function () {
    if (process.platform !== "linux") this.skip();
    const code = "require('./dist').useBackend('webgpu').catch((e) => console.log(e.message))";
    const r = node(code, { VK_DRIVER_FILES: noDriver });
    assert.match(r.stdout, /backend "webgpu" is not available here: no WebGPU adapter: no Vulkan driver \(no ICD file in VK_DRIVER_FILES=/);
    assert.equal(r.stderr, "");
  });

  it("describeWebGPU skips every WebGPU block with one line, or fails them with S4_REQUIRE_WEBGPU=1", function () {
    if (process.platform !== "linux") this.skip();
    this.timeout(60000);
    const spec = path.join(dir, "webgpu-skip.test.js");
    const block = (i) => `describeWebGPU("block ${i}", function () { it("runs", () => {}); });`;
    const helpers = JSON.stringify(path.join(__dirname, "helpers"));
    fs.writeFileSync(spec, [`const { describeWebGPU } = require(${helpers});`, ...[1, 2, 3].map(block), ""].join("\n"));
    const mocha = (env) =>
      spawnSync(process.execPath, [require.resolve("mocha/bin/mocha.js"), "--no-config", "--timeout", "30000", spec], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, S4_TEST_WEBGPU: "", VK_DRIVER_FILES: noDriver, ...env },
      });
    const skipped = mocha({ S4_REQUIRE_WEBGPU: "" });
    assert.equal(skipped.status, 0, skipped.stdout + skipped.stderr);
    const notices = skipped.stdout.split("\n").filter((l) => l.includes("skipped: WebGPU suites"));
    assert.equal(notices.length, 1, skipped.stdout);
    assert.match(
      notices[0],
      /no Vulkan driver .*To run: install a Vulkan driver .*mesa-vulkan-drivers.*S4_REQUIRE_WEBGPU=1 to fail instead/,
    );
    assert.match(skipped.stdout, /3 pending/);
    const required = mocha({ S4_REQUIRE_WEBGPU: "1" });
    assert.notEqual(required.status, 0, required.stdout);
    assert.match(required.stdout, /3 failing/);
    assert.match(required.stdout, /WebGPU suites: no WebGPU adapter: no Vulkan driver .* S4_REQUIRE_WEBGPU=1 asks to run it/);
  });
});

describeWebGPU("on WebGPU", function () {
  it("every s4-core golden case passes", async () => {
    const file = path.join(FIXTURES, "s4-core.json");
    const { cases } = parseFixtureFile(fs.readFileSync(file, "utf8"), file);
    for (const c of cases) {
      const r = await runFixtureCase(c);
      assert.ok(r.pass, `${c.name}: ${r.error ?? r.worstRatio}`);
    }
  });

  it("causal convolution (matmul DFT path) = direct, values and gradients; no leaks", async () => {
    const u = tf.tensor3d(randn(2 * 3 * 40, 1), [2, 3, 40]),
      k = tf.tensor2d(randn(120, 2), [3, 40]);
    const before = tf.memory().numTensors;
    const yF = lib.causalConvolution(u, k, "fft"),
      yD = lib.causalConvolution(u, k, "direct");
    assertClose(await yF.data(), await yD.data(), 1e-4, 1e-4, "y");
    const g = tf.grads((a, b) => tf.sum(tf.square(lib.causalConvolution(a, b, "fft"))))([u, k]);
    const gD = tf.grads((a, b) => tf.sum(tf.square(lib.causalConvolution(a, b, "direct"))))([u, k]);
    assertClose(await g[1].data(), await gD[1].data(), 1e-3, 1e-3, "dk");
    tf.dispose([yF, yD, ...g, ...gD]);
    assert.equal(tf.memory().numTensors, before, "leaked tensors");
    tf.dispose([u, k]);
  });

  it("inv (Gauss–Jordan in tf ops) inverts with pivoting", async () => {
    const a = tf.tensor2d([
      [0, 1, 2],
      [1, 0, 3],
      [4, 5, 6],
    ]);
    const y = lib.linalg.inv(a);
    assertClose(await tf.matMul(a, y).data(), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-5, 0, "A A⁻¹");
    tf.dispose([a, y]);
  });
});
