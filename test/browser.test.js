// Notebooks in a real browser: Debian's Jupyter Notebook server with the tslab kernel, driven
// through its own UI in Debian's headless Chromium (playwright-core, never a downloaded browser).
// For each notebook: Run All from the Cell menu, wait for the kernel to go idle, then check that
// every code cell ran, no cell shows an error, and every plot rendered (an svg.main-svg inside
// each figure). The notebooks run in quick mode (S4_QUICK=1) with every request that leaves
// 127.0.0.1 blocked, so plots must draw from the plotly.js that the library sends.
//
// Two notebooks: a copy of notebooks/s4_in_depth.ipynb (its plots are checked as they appear) and
// a small test-only one that shows a plot of each kind. The test-only one is also saved and
// exported with nbconvert, and the export, opened from disk, must draw every plot again.
// Screenshots go to build/browser/.
//
// Skipped, with one line saying why and how to run it, when /usr/bin/chromium or the Jupyter
// Notebook server is missing, unless S4_REQUIRE_BROWSER=1 (set by CI, which installs both); then
// it fails instead. Anything else missing is a failure that says what to install.
const assert = require("node:assert/strict");
const { spawn, spawnSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { skipSuite } = require("./skip-notice");

const ROOT = path.resolve(__dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const PYTHON = process.env.S4_PYTHON || "/usr/bin/python3";
const TSLAB = path.join(ROOT, "node_modules", ".bin", "tslab");
const SHOTS = path.join(ROOT, "build", "browser");
const MAIN_NOTEBOOK = path.join(ROOT, "notebooks", "s4_in_depth.ipynb");
const GALLERY = "viz_gallery";
// Limits, not expected times (each notebook takes a minute or two on a quiet 2-core machine): the
// main notebook trains two small models even in quick mode, and a busy machine is several times slower.
const GALLERY_MINUTES = 8;
const MAIN_MINUTES = 15;
// Lines of a stderr output that mean the cell failed (the same patterns as scripts/run_notebook.py).
const ERROR_LINE = /^\s*(Uncaught )?[A-Za-z]*(Error|Exception)\b.*:/;
const COMPILE_ERROR = /^\d+:\d+ - /;

/** The test-only notebook: one plot of each kind, through the library as a user would call it. */
const GALLERY_CELLS = [
  `import * as ssm from "s4-mamba-in-depth";
const viz = ssm.viz;
viz.loadPlotly(); // plotly.js once, at the top of the notebook`,
  `const ts = Array.from({ length: 200 }, (_, k) => k / 20);
viz.show(viz.linePlot({ "sin t": ts.map(Math.sin), "cos t": ts.map(Math.cos) }, { x: ts, title: "linePlot", xTitle: "t" }));`,
  `viz.show(viz.barPlot({ fast: [0.5, -1.2, 0.3, 0.9], reference: [0.52, -1.18, 0.31, 0.88] }, { categories: ["Λ", "P", "B", "C"], title: "barPlot" }));`,
  `viz.show(viz.heatmap(ssm.makeHiPPO(8), { title: "heatmap" }));`,
  `const hippo = ssm.makeDPLRHiPPO(16);
viz.show(viz.complexScatter({ name: "Λ", re: hippo.Lambda.re, im: hippo.Lambda.im }, { title: "complexScatter", unitCircle: true }));`,
  `const as = Array.from({ length: 30 }, (_, j) => -5 + (5 * j) / 29);
const deltas = Array.from({ length: 20 }, (_, i) => 0.01 + (0.5 * i) / 19);
viz.show(viz.surface(deltas.map((d) => as.map((a) => Math.exp(d * a))), { x: as, y: deltas, xTitle: "a", yTitle: "Δ", zTitle: "exp(Δ·a)", title: "surface" }));`,
  `const ring = (k: number) => Array.from({ length: 784 }, (_, p) => {
  const r = Math.floor(p / 28) - 14, c = (p % 28) - 14;
  return Math.exp(-(((r * r + c * c) / 30 - k) ** 2));
});
viz.show(viz.imageGrid([0, 1, 2, 3].map(ring), { titles: ["0", "1", "2", "3"], tintPrefix: 392, title: "imageGrid" }));`,
  `const spring = await ssm.exampleSSM(40);
const frames = spring.y.map((p) => [
  { type: "scatter", mode: "lines", x: [-0.05, p], y: [0, 0], name: "spring" },
  { type: "scatter", mode: "markers", x: [p], y: [0], marker: { size: 20 }, name: "mass" },
]);
viz.show(viz.animation(frames, { title: "animation", yRange: [-1, 1] }));`,
  `const chart = viz.liveChart({ series: ["loss", "accuracy"], title: "liveChart", minIntervalMs: 0 });
for (let step = 0; step < 20; step++) {
  chart.push(step, { loss: Math.exp(-step / 5) });
  if (step % 5 === 4) chart.push(step, { accuracy: 1 - Math.exp(-step / 5) });
  await new Promise((resolve) => setTimeout(resolve, 20));
}
chart.done();`,
  `viz.show(viz.linePlot([3, 1, 2], { lang: "zh", title: "lang zh" }));`,
];
const GALLERY_TITLES = ["linePlot", "barPlot", "heatmap", "complexScatter", "surface", "imageGrid", "animation", "liveChart", "lang zh"];

function notebookJSON(sources) {
  return {
    cells: sources.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, execution_count: null, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(text, lines = 40) {
  return text.split("\n").slice(-lines).join("\n");
}

/** The npm-side pieces this test lacks, as install instructions (system packages: see below). */
function missingPieces() {
  const missing = [];
  try {
    require.resolve("playwright-core");
  } catch {
    missing.push("playwright-core (npm install; it is a devDependency)");
  }
  if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) missing.push("the built library (npm run build)");
  if (!fs.existsSync(TSLAB)) missing.push(`tslab at ${path.relative(ROOT, TSLAB)} (npm install)`);
  return missing;
}

/** Why this machine cannot run the test (no Chromium, no Jupyter Notebook server), or null. */
function missingSystemPackages() {
  const missing = [];
  if (!fs.existsSync(CHROMIUM)) missing.push(`no ${CHROMIUM}`);
  const probe = spawnSync(PYTHON, ["-m", "notebook", "--version"], { encoding: "utf8" });
  if (probe.status !== 0) missing.push(`no Jupyter Notebook server for ${PYTHON}`);
  const notebookVersion = (probe.stdout || "").trim();
  return { why: missing.length ? missing.join(", ") : null, notebookVersion };
}

/** A running Notebook server in its own folder, with this checkout's tslab as the only tslab kernel. */
class NotebookServer {
  constructor(dir) {
    this.dir = dir;
    this.token = crypto.randomBytes(16).toString("hex");
    this.log = "";
  }

  async start() {
    this.port = await freePort();
    const jupyter = path.join(this.dir, ".jupyter");
    const kernelDir = path.join(jupyter, "path", "kernels", "tslab");
    fs.mkdirSync(kernelDir, { recursive: true });
    fs.writeFileSync(
      path.join(kernelDir, "kernel.json"),
      JSON.stringify({ argv: [TSLAB, "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript", language: "typescript" }),
    );
    const env = {
      ...process.env,
      JUPYTER_PATH: path.join(jupyter, "path"),
      JUPYTER_CONFIG_DIR: path.join(jupyter, "config"),
      JUPYTER_DATA_DIR: path.join(jupyter, "data"),
      JUPYTER_RUNTIME_DIR: path.join(jupyter, "runtime"),
      PATH: [path.dirname(TSLAB), process.env.PATH].join(path.delimiter),
      S4_QUICK: "1",
      PYTHONUNBUFFERED: "1",
    };
    const args = [
      "-m",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${this.port}`,
      "--port-retries=0",
      `--NotebookApp.token=${this.token}`,
      "--NotebookApp.password=",
      `--notebook-dir=${this.dir}`,
      // A safety net if this process is killed before it can stop the server: idle kernels and
      // then the server itself go away after ten minutes.
      "--MappingKernelManager.cull_idle_timeout=600",
      "--MappingKernelManager.cull_interval=60",
      "--NotebookApp.shutdown_no_activity_timeout=600",
    ];
    if (process.getuid && process.getuid() === 0) args.push("--allow-root");
    this.proc = spawn(PYTHON, args, { cwd: this.dir, env, stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d) => (this.log += d));
    this.proc.stderr.on("data", (d) => (this.log += d));
    const exited = new Promise((resolve) => this.proc.on("exit", (code, signal) => resolve(`exited with ${code ?? signal}`)));
    this.exited = exited;
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const gone = await Promise.race([exited, sleep(250).then(() => null)]);
      if (gone) throw new Error(`the Notebook server ${gone}:\n${tail(this.log)}`);
      try {
        if ((await this.api("GET", "/api/status")).ok) return;
      } catch {
        // not listening yet
      }
    }
    throw new Error(`the Notebook server did not answer on port ${this.port} within 30 s:\n${tail(this.log)}`);
  }

  url(p) {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  api(method, p) {
    return fetch(this.url(p), { method, headers: { Authorization: `token ${this.token}` } });
  }

  async kernels() {
    const res = await this.api("GET", "/api/kernels");
    if (!res.ok) throw new Error(`GET /api/kernels: ${res.status}`);
    return res.json();
  }

  /** The execution state ("idle", "busy", "starting", …) of the kernel of notebook `file`. */
  async kernelState(file) {
    const res = await this.api("GET", "/api/sessions");
    if (!res.ok) throw new Error(`GET /api/sessions: ${res.status}`);
    const session = (await res.json()).find((s) => (s.path ?? s.notebook?.path) === file);
    return session ? session.kernel.execution_state : "no session";
  }

  async shutdownKernels() {
    for (const k of await this.kernels().catch(() => [])) await this.api("DELETE", `/api/kernels/${k.id}`).catch(() => {});
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    await this.shutdownKernels();
    this.proc.kill("SIGTERM");
    const done = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (!done) this.proc.kill("SIGKILL");
  }
}

/** Blocks every request that leaves the Notebook server (or the file system); returns the blocked URLs. */
async function offline(context, port) {
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`http://127.0.0.1:${port}/`) || /^(file|data|blob):/.test(url)) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return blocked;
}

/**
 * The classic Notebook's page, inside page.evaluate. Its global Jupyter (the notebook, its cells
 * and kernel) has no types: the tests read a few of its fields, untyped.
 * @typedef {Window & typeof globalThis & { Jupyter: any }} NotebookPage
 */
/**
 * A figure <div> that Plotly drew: Plotly keeps the figure's layout and traces on the element.
 * @typedef {Element & { layout?: { title?: { text?: string } }, data?: { x?: unknown }[] }} PlotlyDiv
 */

/** The state of the open notebook's code cells, read through the classic Notebook's own model. */
function readCells(page) {
  return page.evaluate(() =>
    /** @type {NotebookPage} */ (window).Jupyter.notebook
      .get_cells()
      .filter((c) => c.cell_type === "code")
      .map((c) => ({
        prompt: c.input_prompt_number ?? null,
        source: c.get_text(),
        errors: c.output_area.outputs.filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`),
        stderr: c.output_area.outputs
          .filter((o) => o.output_type === "stream" && o.name === "stderr")
          .map((o) => o.text)
          .join(""),
        bundles: c.output_area.outputs.filter((o) => String(o.data?.["text/html"] ?? "").includes("data-s4-viz-plotly=")).length,
      })),
  );
}

/** Every figure on the page: its title, whether Plotly drew it, and any note it shows instead. */
function readFigures(page, scope) {
  return page.evaluate(
    (scope) =>
      [...document.querySelectorAll(`${scope} .s4-viz-figure`)].map((/** @type {PlotlyDiv} */ el) => ({
        title: el.layout?.title?.text ?? null,
        drawn: Boolean(el.querySelector("svg.main-svg")),
        traces: (el.data ?? []).map((t) => (Array.isArray(t.x) ? t.x.length : null)),
        note: el.querySelector("svg.main-svg") ? "" : el.textContent.slice(0, 200),
      })),
    scope,
  );
}

/** Waits until every figure in `scope` has drawn (or `timeout` passes); returns them. */
async function waitForFigures(page, scope, timeout) {
  await page
    .waitForFunction(
      (scope) => [...document.querySelectorAll(`${scope} .s4-viz-figure`)].every((el) => el.querySelector("svg.main-svg")),
      scope,
      { timeout, polling: 250 },
    )
    .catch(() => {}); // the assertions below say which figure did not draw
  return readFigures(page, scope);
}

/** A cell's stderr lines that report an error (tslab prints compile errors and stack traces there). */
function errorLines(stderr) {
  return stderr.split("\n").filter((line) => ERROR_LINE.test(line) || COMPILE_ERROR.test(line));
}

/**
 * Screenshots the whole notebook into build/browser/<name>.png, or <name>-1.png, <name>-2.png, …
 * in slices when it is taller than one image can be (Chromium draws nothing past ~16k pixels).
 * A picture to look at, not a check: a failure to take it is reported, not failed on.
 */
async function screenshotNotebook(page, name) {
  try {
    await takeScreenshots(page, name);
  } catch (e) {
    console.warn(`      (no screenshot of ${name}: ${e.message.split("\n")[0]})`);
  }
}

async function takeScreenshots(page, name) {
  const SLICE = 8000;
  for (const f of fs.readdirSync(SHOTS))
    if (f === `${name}.png` || new RegExp(`^${name}-\\d+\\.png$`).test(f)) fs.rmSync(path.join(SHOTS, f));
  // The classic Notebook scrolls inside #site; let the page itself grow instead, so it can be captured.
  const box = await page.evaluate(() => {
    for (const el of [document.documentElement, document.body, document.getElementById("site")])
      Object.assign(el.style, { height: "auto", overflow: "visible" });
    const r = document.getElementById("notebook-container").getBoundingClientRect();
    return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
  });
  const slices = Math.ceil(box.height / SLICE);
  for (let i = 0; i < slices; i++) {
    const clip = { x: box.x, y: box.y + i * SLICE, width: box.width, height: Math.min(SLICE, box.height - i * SLICE) };
    const file = slices === 1 ? `${name}.png` : `${name}-${i + 1}.png`;
    await page.screenshot({ path: path.join(SHOTS, file), clip, fullPage: true, scale: "css" });
  }
}

function checkFiguresDrawn(figures, where) {
  const undrawn = figures.filter((f) => !f.drawn);
  assert.deepEqual(undrawn, [], `${where}: figures that did not draw (no svg.main-svg)`);
}

describe("notebooks in a browser (Jupyter Notebook + headless Chromium)", function () {
  this.timeout(GALLERY_MINUTES * 60000);
  let server, browser, context, blocked, dir, pageErrors;

  before(async function () {
    this.timeout(180000);
    const { why, notebookVersion } = missingSystemPackages();
    if (why) {
      skipSuite(this, {
        kind: "browser test (notebooks in Jupyter + Chromium)",
        why,
        enable: "install Debian's packages (apt-get install chromium jupyter-notebook)",
        requireVar: "S4_REQUIRE_BROWSER",
      });
    }
    const missing = missingPieces();
    assert.deepEqual(missing, [], `the browser test needs: ${missing.join("; ")}`);
    const major = Number(notebookVersion.split(".")[0]);
    assert.equal(
      major,
      6,
      `this test drives the classic Notebook 6 UI (Debian 12's jupyter-notebook is 6.4); ${PYTHON} has Notebook ${notebookVersion}. Point S4_PYTHON at a Python with Notebook 6.`,
    );

    dir = fs.mkdtempSync(path.join(os.tmpdir(), "s4-browser-"));
    // Notebooks import the library and tfjs by package name, as from notebooks/ in the repository.
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    fs.copyFileSync(MAIN_NOTEBOOK, path.join(dir, "s4_in_depth.ipynb"));
    fs.writeFileSync(path.join(dir, `${GALLERY}.ipynb`), JSON.stringify(notebookJSON(GALLERY_CELLS), null, 1));
    fs.mkdirSync(SHOTS, { recursive: true });

    server = new NotebookServer(dir);
    await server.start();
    const { chromium } = require("playwright-core");
    // --no-sandbox: CI runs as root; swiftshader gives the 3-D surface WebGL without a GPU.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    // Playwright's 30 s default is too short for an 11 MB page on a busy machine.
    context.setDefaultTimeout(180000);
    blocked = await offline(context, server.port);
    pageErrors = [];
  });

  after(async function () {
    this.timeout(30000);
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a notebook, runs all cells from the Cell menu, waits for the kernel, and returns what the page shows. */
  async function runNotebook(name, timeoutMs) {
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
    await page.goto(server.url(`/notebooks/${name}.ipynb?token=${server.token}`), { waitUntil: "domcontentloaded" });
    await page
      .waitForFunction(() => /** @type {NotebookPage} */ (window).Jupyter?.notebook?.kernel?.is_connected?.() === true, null, {
        polling: 200,
      })
      .catch((e) => {
        throw new Error(`${name}: the tslab kernel did not connect: ${e.message}\nserver log:\n${tail(server.log)}`);
      });
    await page.click("#celllink");
    await page.click("#run_all_cells > a");

    // Done when the kernel is idle and no cell is queued or running ("*"), twice in a row.
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 2) {
      if (Date.now() > deadline)
        throw new Error(
          `${name}: still running after ${timeoutMs / 1000} s:\n${JSON.stringify((await readCells(page)).map((c) => c.prompt))}`,
        );
      await sleep(500);
      const busy = (await readCells(page)).some((c) => c.prompt === "*") || (await server.kernelState(`${name}.ipynb`)) !== "idle";
      quiet = busy ? 0 : quiet + 1;
    }
    const cells = await readCells(page);
    const figures = await waitForFigures(page, "#notebook", 120000);
    return { page, cells, figures };
  }

  /** Every code cell ran and none shows an error (an error output or an error line on stderr). */
  function checkCells(name, cells) {
    const problems = [];
    cells.forEach((c, i) => {
      if (!c.source.trim()) return;
      if (typeof c.prompt !== "number")
        problems.push(`cell ${i + 1} did not run (prompt ${JSON.stringify(c.prompt)}): ${c.source.split("\n")[0]}`);
      for (const e of c.errors) problems.push(`cell ${i + 1} shows an error: ${e}`);
      for (const line of errorLines(c.stderr)) problems.push(`cell ${i + 1} prints an error: ${line}`);
    });
    assert.deepEqual(problems, [], `${name}: ${problems.join("\n")}`);
  }

  it("runs a test-only notebook with a plot of each kind; the plots draw live and in nbconvert's HTML export", async function () {
    const { page, cells, figures } = await runNotebook(GALLERY, (GALLERY_MINUTES - 2) * 60000);
    await screenshotNotebook(page, GALLERY);
    checkCells(GALLERY, cells);
    assert.deepEqual(
      figures.map((f) => f.title),
      GALLERY_TITLES,
    );
    checkFiguresDrawn(figures, `${GALLERY} (live)`);
    assert.equal(
      cells.reduce((n, c) => n + c.bundles, 0),
      1,
      "plotly.js is sent once per kernel",
    );
    const live = figures.find((f) => f.title === "liveChart");
    assert.deepEqual(live.traces, [20, 4], "the live chart shows all 20 loss and 4 accuracy points after done()");

    // Saved, then exported with nbconvert: the saved outputs alone must draw every figure.
    await page.evaluate(() => /** @type {NotebookPage} */ (window).Jupyter.notebook.save_notebook());
    await page.close();
    await server.shutdownKernels();
    const saved = JSON.parse(fs.readFileSync(path.join(dir, `${GALLERY}.ipynb`), "utf8"));
    const liveOutputs = saved.cells[8].outputs.filter((o) => o.output_type === "display_data");
    assert.equal(liveOutputs.length, 1, "the live chart is one output, updated in place");

    // nbconvert's HTML export, opened from disk with the network blocked.
    const exported = spawnSync(
      PYTHON,
      ["-m", "nbconvert", "--to", "html", "--output-dir", path.join(dir, "html"), path.join(dir, `${GALLERY}.ipynb`)],
      { encoding: "utf8" },
    );
    assert.equal(exported.status, 0, `nbconvert --to html failed:\n${tail(exported.stderr)}`);
    const htmlPage = await context.newPage();
    htmlPage.on("pageerror", (e) => pageErrors.push(`${GALLERY}.html: ${e.message}`));
    await htmlPage.goto(`file://${path.join(dir, "html", `${GALLERY}.html`)}`, { waitUntil: "domcontentloaded" });
    const inHTML = await waitForFigures(htmlPage, "body", 120000);
    assert.deepEqual(
      inHTML.map((f) => f.title),
      GALLERY_TITLES,
      "HTML export",
    );
    checkFiguresDrawn(inHTML, `${GALLERY}.html`);
    assert.deepEqual(inHTML.find((f) => f.title === "liveChart").traces, [20, 4], "the export holds the final live chart");
    await htmlPage.close();
    const plotErrors = pageErrors.filter((e) => /plotly|s4-viz/i.test(e));
    assert.deepEqual(plotErrors, [], "errors thrown in the page by plot scripts");
    assert.deepEqual(
      blocked.filter((url) => /plotly|plot\.ly/i.test(url)),
      [],
      "plots must not fetch plotly.js from the internet",
    );
  });

  it("runs notebooks/s4_in_depth.ipynb in quick mode without errors, with every plot drawn", async function () {
    this.timeout(MAIN_MINUTES * 60000 + 60000);
    const { page, cells, figures } = await runNotebook("s4_in_depth", MAIN_MINUTES * 60000);
    try {
      await screenshotNotebook(page, "s4_in_depth");
    } finally {
      await page.close();
      await server.shutdownKernels();
    }
    checkCells("s4_in_depth", cells);
    checkFiguresDrawn(figures, "s4_in_depth");
    const shown = cells.reduce((n, c) => n + c.bundles, 0);
    assert.ok(shown <= 1, `plotly.js sent ${shown} times; at most once per kernel`);
    if (figures.length) assert.equal(shown, 1, "figures without plotly.js in the notebook");
  });
});
