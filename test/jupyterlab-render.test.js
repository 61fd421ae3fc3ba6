// Executed notebooks through JupyterLab's own output renderers, in Debian's headless Chromium.
//
// JupyterLab itself cannot be installed here, but the part of it that draws outputs can: the
// npm package @jupyterlab/rendermime (4.x) with its default renderer factories. A page bundled
// with esbuild (test/jupyterlab/render-outputs.js) renders every output of an executed notebook
// as a JupyterLab notebook does after its cells have run (trusted), and every plotly figure must
// then draw: an svg.main-svg inside each figure <div>, as many as the notebook has figures. The
// page is offline: every request outside the test's own origin is blocked, so plots must draw
// from the plotly.js that the library put in the notebook.
//
// The notebooks are those that the notebook runs leave behind: build/test-notebooks/ (from
// test/notebooks.test.js) and build/notebooks/ (from `npm run notebooks`, `npm start` and
// scripts/setup.sh); the flagship s4_in_depth must be among them. Skipped, with a message, when
// Chromium or the flagship notebook is missing, unless S4_REQUIRE_BROWSER=1 (set by CI).
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const PYTHON = process.env.S4_PYTHON || "/usr/bin/python3";
const PAGE_ENTRY = path.join(__dirname, "jupyterlab", "render-outputs.js");
const BUNDLE = path.join(ROOT, "build", "jupyterlab-render", "render-outputs.js");
/** Where notebook runs leave executed notebooks; where both hold one, the newer file is used. */
const EXECUTED_DIRS = ["test-notebooks", "notebooks"].map((d) => path.join(ROOT, "build", d));
const FLAGSHIP = "s4_in_depth";
/** The page's origin: served by the test itself through Playwright's routing, never the network. */
const ORIGIN = "http://jupyterlab.test";
const FIGURE_CLASS = "s4-viz-figure";
const PLOTLY_VERSION = JSON.parse(fs.readFileSync(require.resolve("plotly.js-dist/package.json"), "utf8")).version;
const PAGE_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>JupyterLab output renderers</title></head>
<body><div id="notebook" style="width: 900px"></div>
<script src="/render-outputs.js"></script></body></html>`;

/**
 * The page's globals that the tests call inside page.evaluate: the two functions of the bundle
 * (test/jupyterlab/render-outputs.js), and plotly.js once a notebook's output has loaded it.
 * @typedef {Window & typeof globalThis & {
 *   renderNotebook(notebook: object, host: HTMLElement): Promise<{ cell: number, type: string, mime: string | null }[]>,
 *   rejoinOutput(output: object): object,
 *   Plotly?: { version: string },
 * }} RenderPage
 */
/**
 * A figure <div> that Plotly drew: Plotly keeps the figure's layout on the element.
 * @typedef {Element & { layout?: { title?: { text?: string } } }} PlotlyDiv
 */

/** Executed notebooks as { label, file }, the newest file per label ("s4_in_depth", "cn/…"). */
function executedNotebooks() {
  const byLabel = new Map();
  const visit = (dir, prefix) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file, `${prefix}${entry.name}/`);
      else if (entry.name.endsWith(".ipynb") && !entry.name.startsWith(".")) {
        const label = prefix + entry.name.replace(/\.ipynb$/, "");
        const seen = byLabel.get(label);
        const newer = !seen || fs.statSync(file).mtimeMs > fs.statSync(seen).mtimeMs;
        if (newer) byLabel.set(label, file);
      }
    }
  };
  for (const dir of EXECUTED_DIRS) visit(dir, "");
  const labels = [...byLabel.keys()].sort();
  return labels.map((label) => ({ label, file: byLabel.get(label) }));
}

function textOf(value) {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

/** How many figures a notebook's outputs hold, counted here from the file (not by the page). */
function countFigures(notebook) {
  const marker = new RegExp(`<div id="[^"]+" class="${FIGURE_CLASS}"`, "g");
  let figures = 0;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      figures += (textOf(output.data?.["text/html"]).match(marker) ?? []).length;
    }
  }
  return figures;
}

/** Bundles the page's code with esbuild; SVG icons that JupyterLab's UI imports load as text. */
async function bundlePage() {
  const esbuild = require("esbuild");
  fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
  await esbuild.build({
    entryPoints: [PAGE_ENTRY],
    outfile: BUNDLE,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    loader: { ".svg": "text" },
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
}

/**
 * The code cells' outputs as nbformat reads them, which is how Jupyter Server hands a notebook to
 * JupyterLab; null when the Python has no nbformat.
 */
function outputsReadByNbformat(file) {
  const code = [
    "import json, sys, nbformat",
    "nb = nbformat.read(sys.argv[1], as_version=4)",
    "json.dump([c.get('outputs', []) for c in nb.cells if c.cell_type == 'code'], sys.stdout)",
  ].join("\n");
  /** @type {import("node:child_process").SpawnSyncOptionsWithStringEncoding} */
  const options = { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 };
  const run = spawnSync(PYTHON, ["-c", code, file], options);
  return run.status === 0 ? JSON.parse(run.stdout) : null;
}

const notebooks = executedNotebooks();
const readNotebook = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const withFigures = notebooks.filter(({ file }) => countFigures(readNotebook(file)) > 0);

describe("executed notebooks in JupyterLab's output renderers (Chromium)", function () {
  this.timeout(120000);
  let browser, context, blocked, served;

  before(async function () {
    this.timeout(120000);
    const required = process.env.S4_REQUIRE_BROWSER === "1";
    const skip = (what, enable) => {
      if (required) throw new Error(`${what} and S4_REQUIRE_BROWSER=1: ${enable}`);
      console.log(`      skipped: JupyterLab renderer test: ${what}; ${enable} to run it ` + "(S4_REQUIRE_BROWSER=1 makes this a failure)");
      this.skip();
    };
    if (!fs.existsSync(CHROMIUM)) {
      skip(`${CHROMIUM} not found`, "install Debian's chromium (apt-get install chromium)");
    }
    if (!notebooks.some((n) => n.label === FLAGSHIP)) {
      const where = EXECUTED_DIRS.map((d) => path.relative(ROOT, d)).join(" or ");
      skip(`no executed ${FLAGSHIP}.ipynb in ${where}`, `npm run notebooks -- ${FLAGSHIP} --quick`);
    }
    await bundlePage();
    const { chromium } = require("playwright-core");
    // --no-sandbox: CI runs as root; swiftshader gives the 3-D surface WebGL without a GPU.
    const args = ["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"];
    browser = await chromium.launch({ executablePath: CHROMIUM, args });
    context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    context.setDefaultTimeout(90000);
    blocked = [];
    served = new Map(); // path under ORIGIN → file or text
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      const body = url.origin === ORIGIN ? served.get(url.pathname) : undefined;
      if (body === undefined) {
        blocked.push(url.href);
        return route.abort();
      }
      const contentType = url.pathname.endsWith(".js") ? "text/javascript" : "text/html";
      const content = body.file ? { path: body.file } : { body: body.text };
      return route.fulfill({ ...content, contentType });
    });
    served.set("/", { text: PAGE_HTML });
    served.set("/render-outputs.js", { file: BUNDLE });
    served.set("/favicon.ico", { text: "" });
  });

  after(async function () {
    if (browser) await browser.close().catch(() => {});
  });

  /** Opens the page, renders the notebook's outputs, and returns the page and what it rendered. */
  async function render(label, file) {
    served.set(`/notebooks/${label}.ipynb`, { file });
    blocked.length = 0;
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${ORIGIN}/`, { waitUntil: "load" });
    const outputs = await page.evaluate(async (url) => {
      const notebook = await (await fetch(url)).json();
      return /** @type {RenderPage} */ (window).renderNotebook(notebook, document.getElementById("notebook"));
    }, `/notebooks/${label}.ipynb`);
    return { page, outputs, errors };
  }

  /** Waits until `count` figures have drawn (or time runs out); returns every figure's state. */
  async function figuresOf(page, count) {
    const drawn = (n) => document.querySelectorAll(".s4-viz-figure svg.main-svg").length >= n;
    // A timeout is not an error here: the assertions below say which figures did not draw.
    await page.waitForFunction(drawn, count, { polling: 250, timeout: 90000 }).catch(() => {});
    return page.evaluate(() =>
      [...document.querySelectorAll(".s4-viz-figure")].map((/** @type {PlotlyDiv} */ el) => ({
        title: el.layout?.title?.text ?? null,
        drawn: Boolean(el.querySelector("svg.main-svg")),
        note: el.querySelector("svg.main-svg") ? "" : el.textContent.slice(0, 160),
      })),
    );
  }

  it(`finds the executed flagship notebook (${FLAGSHIP}) and its figures`, function () {
    const flagship = notebooks.find((n) => n.label === FLAGSHIP);
    const found = notebooks.map((n) => n.label).join(", ") || "none";
    assert.ok(flagship, `executed notebooks found: ${found}`);
    assert.ok(withFigures.includes(flagship), `${path.relative(ROOT, flagship.file)} has no figures`);
  });

  for (const { label, file } of withFigures) {
    const where = path.relative(ROOT, file);
    it(`${label}: every output renders, every plot draws (${where})`, async function () {
      const expected = countFigures(readNotebook(file));
      const { page, outputs, errors } = await render(label, file);
      try {
        const unrendered = outputs.filter((o) => o.mime === null);
        assert.deepEqual(unrendered, [], "outputs with no mime type that JupyterLab can render");
        const figures = await figuresOf(page, expected);
        assert.equal(figures.length, expected, "figure <div>s on the page = figures in the notebook");
        const undrawn = figures.filter((f) => !f.drawn);
        assert.deepEqual(undrawn, [], "figures that did not draw (no svg.main-svg)");
        const plotly = await page.evaluate(() => /** @type {RenderPage} */ (window).Plotly?.version);
        assert.equal(plotly, PLOTLY_VERSION, "plotly.js, from the notebook");
        assert.deepEqual(errors, [], "errors thrown in the page");
        assert.deepEqual(blocked, [], "requests that tried to leave the page (it is offline)");
      } finally {
        await page.close();
      }
    });
  }

  it(`joins ${FLAGSHIP}'s split output text exactly as nbformat's reader does`, async function () {
    const flagship = notebooks.find((n) => n.label === FLAGSHIP);
    const expected = outputsReadByNbformat(flagship.file);
    if (!expected) {
      console.log(`      skipped: ${PYTHON} cannot import nbformat, the reference for joining`);
      this.skip();
    }
    served.set(`/notebooks/${FLAGSHIP}.ipynb`, { file: flagship.file });
    const page = await context.newPage();
    try {
      await page.goto(`${ORIGIN}/`, { waitUntil: "load" });
      const joined = await page.evaluate(async (url) => {
        const notebook = await (await fetch(url)).json();
        const code = notebook.cells.filter((c) => c.cell_type === "code");
        const rejoined = code.map((c) => (c.outputs ?? []).map((o) => /** @type {RenderPage} */ (window).rejoinOutput(o)));
        return JSON.stringify(rejoined);
      }, `/notebooks/${FLAGSHIP}.ipynb`);
      const isSplit = (o) => Array.isArray(o.data?.["text/html"]) && o.data["text/html"].length > 1;
      const split = readNotebook(flagship.file).cells.some((c) => (c.outputs ?? []).some(isSplit));
      assert.ok(split, "the notebook on disk holds HTML split into lines (something to join)");
      assert.deepEqual(JSON.parse(joined), expected);
    } finally {
      await page.close();
    }
  });
});
