// The Node.js-free core of the library (dist/core.js: math, kernels, Mamba scans, modules) in a
// browser: bundled with esbuild for the browser, it loads nothing from Node.js, and in Debian's
// Chromium (driven by playwright-core) its hand-written kernels on the wasm backend agree with
// their plain-tf-ops references.
// Skipped, with one line saying why, when /usr/bin/chromium is missing, unless
// S4_REQUIRE_BROWSER=1 (set by CI, which installs it); then a missing browser fails.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { skipSuite } = require("./helpers");

const ROOT = path.resolve(__dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const WASM_DIR = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");

/** The page's script: the core and tfjs's wasm backend, and a function that runs the checks. */
const ENTRY = `
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as core from "./dist/core.js";

setWasmPaths("/wasm/");
const maxAbsDiff = async (a, b) => {
  const [x, y] = [await a.data(), await b.data()];
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
};
window.runChecks = async () => {
  await tf.setBackend("wasm");
  await tf.ready();
  const [b, d, n, l] = [2, 3, 4, 50];
  const u = tf.randomNormal([b, d, l], 0, 1, "float32", 1);
  const delta = tf.randomNormal([b, d, l], 0, 1, "float32", 2);
  const A = tf.neg(tf.exp(tf.randomNormal([d, n], 0, 1, "float32", 3)));
  const B = tf.randomNormal([b, n, l], 0, 1, "float32", 4);
  const C = tf.randomNormal([b, n, l], 0, 1, "float32", 5);
  const opts = { D: tf.randomNormal([d], 0, 1, "float32", 6), z: tf.randomNormal([b, d, l], 0, 1, "float32", 7), deltaSoftplus: true };
  const fused = core.kernels.selectiveScan(u, delta, A, B, C, opts);
  const reference = core.kernels.selectiveScanReference(u, delta, A, B, C, opts);
  const k = tf.randomNormal([d, l], 0, 1, "float32", 8);
  return {
    backend: tf.getBackend(),
    fusedKernel: tf.getKernel("SelectiveScan", "wasm") !== undefined,
    scanDiff: await maxAbsDiff(fused.y, reference.y),
    convDiff: await maxAbsDiff(core.kernels.causalConv(u, k), core.kernels.matmulCausalConv(u, k)),
  };
};
`;

/**
 * The page after the bundle has run: ENTRY defines runChecks on it.
 * @typedef {Window & typeof globalThis & {
 *   runChecks(): Promise<{ backend: string, fusedKernel: boolean, scanDiff: number, convDiff: number }>,
 * }} CheckPage
 */

/** The bundle, and the Node.js modules it imports with the kind of import. */
async function bundle() {
  const esbuild = require("esbuild");
  const r = await esbuild.build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: "js" },
    bundle: true,
    platform: "browser",
    format: "iife",
    write: false,
    metafile: true,
    logLevel: "silent",
    // Only behind a runtime check that the code runs in Node.js (the host kernels' worker threads).
    external: ["node:*"],
  });
  const nodeImports = Object.entries(r.metafile.inputs).flatMap(([file, info]) =>
    info.imports.filter((i) => i.path.startsWith("node:")).map((i) => ({ file, kind: i.kind, path: i.path })),
  );
  return { code: r.outputFiles[0].text, nodeImports };
}

describe("the Node.js-free core in a browser (esbuild + Chromium, wasm backend)", function () {
  this.timeout(240000);
  let server, browser, built;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      skipSuite(this, {
        kind: "browser test (the core bundle in Chromium)",
        why: `${CHROMIUM} is missing`,
        enable: "apt-get install chromium",
        requireVar: "S4_REQUIRE_BROWSER",
      });
    }
    built = await bundle();
    const page = `<!doctype html><meta charset="utf-8"><title>core</title><script src="/bundle.js"></script>`;
    server = http.createServer((req, res) => {
      const url = req.url.split("?")[0];
      if (url === "/") return res.writeHead(200, { "content-type": "text/html" }).end(page);
      if (url === "/bundle.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(built.code);
      const wasm = url.startsWith("/wasm/") && path.join(WASM_DIR, path.basename(url));
      if (wasm && fs.existsSync(wasm)) return res.writeHead(200, { "content-type": "application/wasm" }).end(fs.readFileSync(wasm));
      res.writeHead(404).end();
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { chromium } = require("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });

  after(async function () {
    if (browser) await browser.close().catch(() => {});
    if (server) server.close();
  });

  it("loads no Node.js module: the only ones in the bundle are required behind the check for Node.js", function () {
    const unguarded = built.nodeImports.filter(
      (i) => i.kind !== "require-call" || !i.file.endsWith(path.join("kernels", "host-threads.js")),
    );
    assert.deepEqual(unguarded, [], JSON.stringify(built.nodeImports));
  });

  it("runs the fused selective scan and the FFT causal convolution on wasm, equal to their references", async function () {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const r = await page.evaluate(() => /** @type {CheckPage} */ (window).runChecks());
    await page.close();
    assert.deepEqual(errors, []);
    assert.equal(r.backend, "wasm");
    assert.ok(r.fusedKernel, "the selective scan's host kernel is registered for wasm");
    assert.ok(r.scanDiff < 1e-4, `selective scan: max |fused − reference| = ${r.scanDiff}`);
    assert.ok(r.convDiff < 1e-3, `causal conv: max |FFT − direct| = ${r.convDiff}`);
  });
});
