// Backend choice, and the library on WebGPU where an adapter exists (Mesa lavapipe in CI).
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { FIXTURES, assertClose, randn, tf, lib, assert, describeWebGPU } = require("./helpers");

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
    try { require.resolve("@tensorflow/tfjs-node"); } catch { hasNode = false; }
    if (!hasNode) await assert.rejects(() => lib.useBackend("tensorflow"), /backend "tensorflow" is not available here: Cannot find module '@tensorflow\/tfjs-node'/);
  });
});

describeWebGPU("on WebGPU", function () {

  it("every s4-core golden case passes", async () => {
    const file = path.join(FIXTURES, "s4-core.json");
    const { cases } = lib.parseFixtureFile(fs.readFileSync(file, "utf8"), file);
    for (const c of cases) {
      const r = await lib.runFixtureCase(c);
      assert.ok(r.pass, `${c.name}: ${r.error ?? r.worstRatio}`);
    }
  });

  it("causal convolution (matmul DFT path) = direct, values and gradients; no leaks", async () => {
    const u = tf.tensor3d(randn(2 * 3 * 40, 1), [2, 3, 40]), k = tf.tensor2d(randn(120, 2), [3, 40]);
    const before = tf.memory().numTensors;
    const yF = lib.causalConvolution(u, k, "fft"), yD = lib.causalConvolution(u, k, "direct");
    assertClose(await yF.data(), await yD.data(), 1e-4, 1e-4, "y");
    const g = tf.grads((a, b) => tf.sum(tf.square(lib.causalConvolution(a, b, "fft"))))([u, k]);
    const gD = tf.grads((a, b) => tf.sum(tf.square(lib.causalConvolution(a, b, "direct"))))([u, k]);
    assertClose(await g[1].data(), await gD[1].data(), 1e-3, 1e-3, "dk");
    tf.dispose([yF, yD, ...g, ...gD]);
    assert.equal(tf.memory().numTensors, before, "leaked tensors");
    tf.dispose([u, k]);
  });

  it("inv (Gauss–Jordan in tf ops) inverts with pivoting", async () => {
    const a = tf.tensor2d([[0, 1, 2], [1, 0, 3], [4, 5, 6]]);
    const y = lib.inv(a);
    assertClose(await tf.matMul(a, y).data(), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-5, 0, "A A⁻¹");
    tf.dispose([a, y]);
  });
});
