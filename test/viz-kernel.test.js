// viz.show under a tslab kernel that is not this checkout's own copy of tslab.
//
// A kernelspec may start any install of tslab: a global `npm install -g tslab`, or the one of a
// second checkout. That tslab hands over to the tslab it finds in node_modules above the
// notebook's folder, or else serves the notebook itself; either way the copy that serves cells
// can differ from the one the library would `require`. Only the serving copy can display.
//
// Part one, without Jupyter: a fresh Node process with stand-ins for a running kernel.
// Part two, for real: tslab 1.0.22 installed into a prefix of its own (cached in build/), its
// kernelspec registered under another name in a temporary JUPYTER_PATH (the user's "tslab"
// kernelspec is never touched), and a small notebook executed through scripts/run_notebook.py
// (nbclient) in three layouts. Part two is skipped, with a message, where the Python has no
// Jupyter, unless S4_REQUIRE_BROWSER=1 (set by CI); then it fails instead.
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const PYTHON = process.env.S4_PYTHON || "/usr/bin/python3";
const RUNNER = path.join(ROOT, "scripts", "run_notebook.py");
const TSLAB_VERSION = "1.0.22";
/** The other install of tslab, kept between runs (an install takes seconds to minutes). */
const TSLAB_PREFIX = path.join(ROOT, "build", `tslab-${TSLAB_VERSION}-prefix`);
const KERNEL_NAME = "tslab-viz-kernel-test";

function tail(text, lines = 40) {
  return text.split("\n").slice(-lines).join("\n");
}

/** Runs `body` in a fresh Node process that has loaded dist/viz; returns what it reports. */
function inFreshProcess(body) {
  const script = `
    const viz = require(${JSON.stringify(path.join(DIST, "viz"))});
    const report = (x) => process.stdout.write(JSON.stringify(x));
    (async () => { ${body} })().catch((e) => report({ error: e.message }));
  `;
  const run = spawnSync(process.execPath, ["-e", script], { cwd: os.tmpdir(), encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** Source of a stand-in tslab public module whose display records into `sink` (an array). */
const FAKE_TSLAB = `
  function fakeTslab(sink) {
    return {
      display: { html: (s) => sink.push({ html: s }) },
      newDisplay: () => ({ html: (s) => sink.push({ html: s, updatable: true }) }),
    };
  }`;

describe("viz: finding the running tslab kernel's display", function () {
  this.timeout(60000);

  it("uses the kernel's require hook (globalThis.__tslab__), not the library's tslab", function () {
    const r = inFreshProcess(`${FAKE_TSLAB}
      const sink = [];
      globalThis.__tslab__ = { require: (id) => (id === "tslab" ? fakeTslab(sink) : require(id)) };
      viz.show(viz.linePlot([1, 2], { title: "hooked" }));
      report({ outputs: sink.map((o) => o.html.includes("s4-viz-figure") ? "figure" : "bundle") });
    `);
    assert.deepEqual(r, { outputs: ["bundle", "figure"] });
  });

  it("else uses the loaded copy of tslab whose jupyter module serves cells", function () {
    // A stand-in install: <dir>/tslab/dist/{jupyter,public}.js, loaded but not resolvable by name.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s4-viz-fake-tslab-"));
    try {
      const distDir = path.join(dir, "tslab", "dist");
      fs.mkdirSync(distDir, { recursive: true });
      fs.writeFileSync(path.join(distDir, "jupyter.js"), "exports.lastWriteDisplayData = null;\n");
      fs.writeFileSync(
        path.join(distDir, "public.js"),
        `
        const jupyter = require("./jupyter");
        const write = (html, updatable) => jupyter.lastWriteDisplayData({ html, updatable });
        exports.display = { html: (s) => write(s, false) };
        exports.newDisplay = () => ({ html: (s) => write(s, true) });
      `,
      );
      const r = inFreshProcess(`
        const sink = [];
        const idle = require(${JSON.stringify(path.join(dir, "tslab", "dist", "jupyter.js"))});
        let before;
        try { viz.show(viz.linePlot([1])); before = "no error"; } catch (e) { before = e.message; }
        idle.lastWriteDisplayData = (o) => sink.push(o); // as after the kernel's first cell
        viz.show(viz.linePlot([1, 2]));
        const chart = viz.liveChart({ series: ["loss"], minIntervalMs: 0 });
        chart.push(0, { loss: 1 });
        chart.done();
        const kind = (o) => (o.html.includes("s4-viz-figure") ? "figure" : "bundle");
        report({ before, outputs: sink.map((o) => [kind(o), o.updatable]) });
      `);
      assert.equal(r.error, undefined, "show() once the stand-in serves cells");
      assert.match(r.before, /^show: no notebook to display in/, "a copy serving no cells is unused");
      const expected = [
        ["bundle", false],
        ["figure", false],
        ["figure", true],
        ["figure", true],
      ];
      assert.deepEqual(r.outputs, expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Part two: real kernels.

/** Why PYTHON cannot execute notebooks and register kernels, or "" when it can. */
function jupyterProblem() {
  const modules = "nbclient, nbformat, nbconvert, jupyter_client, IPython";
  const probe = spawnSync(PYTHON, ["-c", `import ${modules}`], { encoding: "utf8" });
  if (probe.error) {
    const error = /** @type {NodeJS.ErrnoException} */ (probe.error);
    return `${PYTHON} cannot run (${error.code ?? error.message})`;
  }
  if (probe.status !== 0) return `${PYTHON} has no Jupyter (${tail(probe.stderr, 1).trim()})`;
  return "";
}

/** The cached prefix's tslab, if complete: its package.json says TSLAB_VERSION and zeromq loads. */
function cachedTslab(prefix) {
  const pkg = path.join(prefix, "node_modules", "tslab", "package.json");
  if (!fs.existsSync(pkg)) return false;
  if (JSON.parse(fs.readFileSync(pkg, "utf8")).version !== TSLAB_VERSION) return false;
  const cwd = path.join(prefix, "node_modules", "tslab");
  const zmq = spawnSync(process.execPath, ["-e", "require('zeromq')"], { cwd });
  return zmq.status === 0;
}

/**
 * tslab TSLAB_VERSION in a prefix of its own under build/, installed once with npm (from its
 * cache when it can) into a scratch folder and renamed into place, so a cut-short install is
 * never taken for a cached one. zeromq ships prebuilt binaries, so no install script is run.
 */
function ensureTslabPrefix() {
  if (cachedTslab(TSLAB_PREFIX)) return;
  fs.mkdirSync(path.dirname(TSLAB_PREFIX), { recursive: true });
  const scratch = fs.mkdtempSync(`${TSLAB_PREFIX}.partial-`);
  try {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const args = [
      "install",
      "--prefix",
      scratch,
      "--no-save",
      "--no-package-lock",
      "--ignore-scripts",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      `tslab@${TSLAB_VERSION}`,
    ];
    const install = spawnSync(npm, args, { encoding: "utf8", timeout: 300000 });
    const log = tail(`${install.stdout}${install.stderr}`);
    assert.equal(install.status, 0, `npm ${args.join(" ")} failed (it needs the npm registry or npm's cache):\n${log}`);
    assert.ok(cachedTslab(scratch), `tslab ${TSLAB_VERSION} installed into ${scratch}, but its zeromq addon does not load here`);
    fs.rmSync(TSLAB_PREFIX, { recursive: true, force: true });
    fs.renameSync(scratch, TSLAB_PREFIX);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Registers the prefix's tslab with its own `tslab install` (which always names the spec
 * "tslab"), into a scratch prefix, then moves the spec to `kernels/KERNEL_NAME` under jupyterPath.
 */
function registerKernel(scratch, jupyterPath) {
  const tslabBin = path.join(TSLAB_PREFIX, "node_modules", ".bin", "tslab");
  const args = ["install", `--python=${PYTHON}`, `--binary=${tslabBin}`, `--prefix=${scratch}`];
  const install = spawnSync(tslabBin, args, { encoding: "utf8" });
  const log = tail(`${install.stdout}${install.stderr}`);
  assert.equal(install.status, 0, `tslab install failed:\n${log}`);
  const spec = path.join(scratch, "share", "jupyter", "kernels", "tslab");
  const kernelJSON = JSON.parse(fs.readFileSync(path.join(spec, "kernel.json"), "utf8"));
  assert.equal(kernelJSON.argv[0], tslabBin, "the kernelspec starts the prefix's tslab");
  fs.mkdirSync(path.join(jupyterPath, "kernels"), { recursive: true });
  fs.renameSync(spec, path.join(jupyterPath, "kernels", KERNEL_NAME));
}

/** A notebook of code cells for the test kernel. */
function notebookOf(cells) {
  return {
    cells: cells.map((source, i) => ({
      cell_type: "code",
      id: `cell-${i}`,
      execution_count: null,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: {
      kernelspec: { display_name: "TypeScript (other)", language: "typescript", name: KERNEL_NAME },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/**
 * Two live charts redrawn on every push, back to back in one turn of the event loop: thousands
 * of outputs, as a long training run makes. zeromq defers every 513th send by a turn, and a
 * second send meeting it used to throw "Socket is busy writing" and kill the kernel.
 */
const BURST_CELLS = [
  `import * as ssm from "s4-mamba-in-depth";
const a = ssm.viz.liveChart({ series: ["loss"], title: "burst a", minIntervalMs: 0, maxPoints: 8 });
const b = ssm.viz.liveChart({ series: ["acc"], title: "burst b", minIntervalMs: 0, maxPoints: 8 });
for (let step = 0; step < 1500; step++) {
  a.push(step, { loss: 1 / (step + 1) });
  b.push(step, { acc: step / 1500 });
  if (step % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
}
a.done();
b.done();
console.log("burst done");`,
  `console.log("the kernel is alive");`,
];

/** The notebook: which tslab serves (and which library loaded), a figure, and a live chart. */
function kernelNotebook() {
  const cells = [
    `const serving = Object.keys(require.cache).filter((file) => {
  const jupyter = require.cache[file]?.exports as { lastWriteDisplayData?: unknown };
  return /[\\\\/]tslab[\\\\/]dist[\\\\/]jupyter\\.js$/.test(file) &&
    typeof jupyter.lastWriteDisplayData === "function";
});
console.log("serving tslab: " + JSON.stringify(serving));`,
    `import * as ssm from "s4-mamba-in-depth";
console.log("library: " + JSON.stringify(require.resolve("s4-mamba-in-depth")));
ssm.viz.show(ssm.viz.linePlot([1, 2, 3], { title: "kernel check" }));`,
    `const chart = ssm.viz.liveChart({ series: ["loss"], title: "live kernel check",
  minIntervalMs: 0 });
for (let step = 0; step < 3; step++) chart.push(step, { loss: 1 / (step + 1) });
chart.done();`,
  ];
  return notebookOf(cells);
}

/**
 * Symlinks every package of this checkout's node_modules into `dir`, except those in `skip`
 * (s4-mamba-in-depth links to this checkout; @types/node gives notebook code its Node types).
 */
function linkPackages(dir, skip) {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(path.join(ROOT, "node_modules"))) {
    if (name.startsWith(".") || skip.includes(name)) continue;
    fs.symlinkSync(path.join(ROOT, "node_modules", name), path.join(dir, name), "dir");
  }
}

/** A copy of the built library (package.json and dist/) whose node_modules lack tslab. */
function libraryWithoutTslab(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
  fs.cpSync(DIST, path.join(dir, "dist"), { recursive: true });
  linkPackages(path.join(dir, "node_modules"), ["tslab", "@tslab", "s4-mamba-in-depth"]);
  const resolveTslab = () => require.resolve("tslab", { paths: [path.join(dir, "dist")] });
  assert.throws(resolveTslab, /Cannot find module/, "the copy of the library finds no tslab");
}

/** The folders above `dir` that hold a node_modules/tslab (tslab hands over to the first). */
function tslabAbove(dir) {
  const found = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "node_modules", "tslab", "dist", "main.js"))) found.push(d);
    if (path.dirname(d) === d) return found;
  }
}

function textOf(value) {
  return Array.isArray(value) ? value.join("") : String(value ?? "");
}

describe("viz.show under a tslab kernel from another install (Jupyter, nbclient)", function () {
  this.timeout(300000);
  let scratch;
  /** @type {NodeJS.ProcessEnv} */
  let env;

  before(function () {
    this.timeout(360000);
    const problem = jupyterProblem();
    if (problem) {
      const enable =
        "run bash scripts/setup.sh (or apt-get install python3-nbclient " +
        "jupyter-nbconvert python3-ipykernel, or point S4_PYTHON at a Python with Jupyter)";
      if (process.env.S4_REQUIRE_BROWSER === "1") {
        throw new Error(`${problem} and S4_REQUIRE_BROWSER=1: ${enable}`);
      }
      console.log(
        `      skipped: real tslab kernel tests: ${problem}; ${enable} to run them ` + "(S4_REQUIRE_BROWSER=1 makes this a failure)",
      );
      this.skip();
    }
    assert.ok(fs.existsSync(path.join(DIST, "index.js")), "no built library: npm run build");
    ensureTslabPrefix();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "s4-viz-kernel-"));
    const jupyter = path.join(scratch, "jupyter");
    registerKernel(path.join(scratch, "install"), path.join(jupyter, "path"));
    env = {
      ...process.env,
      JUPYTER_PATH: path.join(jupyter, "path"),
      JUPYTER_DATA_DIR: path.join(jupyter, "data"),
      JUPYTER_CONFIG_DIR: path.join(jupyter, "config"),
      JUPYTER_RUNTIME_DIR: path.join(jupyter, "runtime"),
      PYTHONUNBUFFERED: "1",
    };
    delete env.S4_QUICK;
  });

  after(function () {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** Writes the notebook into `folder`, executes it with the registered kernel; returns its cells. */
  function execute(folder, nb = kernelNotebook()) {
    const notebook = path.join(folder, "kernel_check.ipynb");
    fs.writeFileSync(notebook, JSON.stringify(nb, null, 1));
    const output = path.join(folder, "executed", "kernel_check.ipynb");
    const args = [RUNNER, notebook, "--output", output, "--kernel", KERNEL_NAME, "--timeout", "120"];
    /** @type {import("node:child_process").SpawnSyncOptions} */
    const limits = { timeout: 240000, killSignal: "SIGTERM" };
    const run = spawnSync(PYTHON, args, { env, encoding: "utf8", ...limits });
    const log = `${run.stdout ?? ""}${run.stderr ?? ""}`;
    assert.equal(run.status, 0, `the notebook failed under the ${KERNEL_NAME} kernel:\n${tail(log)}`);
    return JSON.parse(fs.readFileSync(output, "utf8")).cells;
  }

  /** Checks what the cells printed and showed; `serving` and `library` are the expected files. */
  function checkOutputs(cells, { serving, library }) {
    const outputsOf = (c, type) => c.outputs.filter((o) => o.output_type === type);
    const streams = cells.map((c) =>
      outputsOf(c, "stream")
        .map((o) => textOf(o.text))
        .join(""),
    );
    const isError = (o) => o.output_type === "error" || o.name === "stderr";
    const errors = cells.flatMap((c) => c.outputs.filter(isError));
    assert.deepEqual(errors, [], "no cell reports an error");
    const servingLine = /serving tslab: (.*)/.exec(streams[0]);
    assert.ok(servingLine, `cell 1 printed: ${streams[0]}`);
    const servingFiles = JSON.parse(servingLine[1]).map((f) => fs.realpathSync(f));
    assert.deepEqual(servingFiles, [fs.realpathSync(serving)], "the copy of tslab that serves cells");
    const libraryLine = /library: (.*)/.exec(streams[1]);
    assert.ok(libraryLine, `cell 2 printed: ${streams[1]}`);
    const libraryFile = fs.realpathSync(JSON.parse(libraryLine[1]));
    assert.equal(libraryFile, fs.realpathSync(library), "the copy of the library");

    const htmlOf = (o) => textOf(o.data?.["text/html"]);
    const shown = cells.map((c) => outputsOf(c, "display_data").map(htmlOf));
    assert.deepEqual(
      shown.map((s) => s.length),
      [0, 2, 1],
      "display outputs per cell: none; plotly.js and the figure; the live chart",
    );
    const [bundle, figure] = shown[1];
    assert.match(bundle, /^<script type="text\/javascript" data-s4-viz-plotly="/, "plotly.js first");
    assert.match(figure, /class="s4-viz-figure"[\s\S]*kernel check/, "the figure's HTML");
    assert.match(shown[2][0], /class="s4-viz-figure"[\s\S]*live kernel check/, "the live chart");
  }

  it("the other install hands over to the tslab in node_modules beside the notebook", function () {
    // As a global tslab opening notebooks/ of this checkout: node_modules has tslab and the library.
    const folder = path.join(scratch, "beside-local-tslab");
    fs.mkdirSync(folder);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(folder, "node_modules"), "dir");
    const cells = execute(folder);
    checkOutputs(cells, {
      serving: path.join(ROOT, "node_modules", "tslab", "dist", "jupyter.js"),
      library: path.join(DIST, "index.js"),
    });
  });

  it("the other install serves the notebook while the library has its own tslab", function () {
    // As a project that installed this checkout (and its dependencies) but not tslab.
    const folder = path.join(scratch, "no-local-tslab");
    linkPackages(path.join(folder, "node_modules"), ["tslab", "@tslab"]);
    assert.deepEqual(tslabAbove(folder), [], "no tslab above the notebook's folder");
    const cells = execute(folder);
    checkOutputs(cells, {
      serving: path.join(TSLAB_PREFIX, "node_modules", "tslab", "dist", "jupyter.js"),
      library: path.join(DIST, "index.js"),
    });
  });

  it("the other install serves the notebook and the library has no tslab at all", function () {
    const folder = path.join(scratch, "library-without-tslab");
    const library = path.join(folder, "node_modules", "s4-mamba-in-depth");
    libraryWithoutTslab(library);
    const types = path.join(ROOT, "node_modules", "@types");
    fs.symlinkSync(types, path.join(folder, "node_modules", "@types"), "dir");
    assert.deepEqual(tslabAbove(folder), [], "no tslab above the notebook's folder");
    const cells = execute(folder);
    checkOutputs(cells, {
      serving: path.join(TSLAB_PREFIX, "node_modules", "tslab", "dist", "jupyter.js"),
      library: path.join(library, "dist", "index.js"),
    });
  });

  it("thousands of outputs in a burst do not crash the kernel (sends are queued)", function () {
    const folder = path.join(scratch, "burst");
    fs.mkdirSync(folder);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(folder, "node_modules"), "dir");
    const cells = execute(folder, notebookOf(BURST_CELLS));
    const text = cells.map((c) =>
      c.outputs
        .filter((o) => o.output_type === "stream")
        .map((o) => textOf(o.text))
        .join(""),
    );
    assert.match(text[0], /burst done/);
    assert.match(text[1], /the kernel is alive/);
    assert.deepEqual(
      cells.flatMap((c) => c.outputs.filter((o) => o.output_type === "error")),
      [],
    );
  });
});
