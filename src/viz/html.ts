/**
 * HTML for figures, with plotly.js taken from the installed `plotly.js-dist` package so that
 * nothing is fetched from the internet: the bundle as one <script>, each figure as a <div> with a
 * small <script> that draws it, and a whole standalone page.
 *
 * A figure's script waits (polling) until both `window.Plotly` and its <div> exist: the classic
 * Notebook runs an output's scripts before attaching the output to the page, and a saved notebook
 * may render a figure before the output that holds the bundle. While plotly.js is missing the
 * <div> says how to load it.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../atomic-write";
import { describe, isArrayLike, isRecord } from "./check";
import type { Figure } from "./types";

/** The attribute that marks the bundle's <script>, so tests and pages can find it. */
export const BUNDLE_MARKER = "data-s4-viz-plotly";
/** The class of every figure <div>. */
export const FIGURE_CLASS = "s4-viz-figure";
/** How long a figure waits for plotly.js before it shows a "not loaded" note, and before it stops waiting. */
const NOTE_MS = 20_000;
const GIVE_UP_MS = 600_000;

let bundleCache: { version: string; source: string } | undefined;

/** plotly.js from node_modules: its version and source (read once). */
export function plotlySource(): { version: string; source: string } {
  if (!bundleCache) {
    let file: string;
    try {
      file = require.resolve("plotly.js-dist/plotly.js");
    } catch {
      throw new Error("plotly.js-dist is not installed: run npm install (it is a dependency of this package)");
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), "package.json"), "utf8")) as { version: string };
    bundleCache = { version: pkg.version, source: fs.readFileSync(file, "utf8") };
  }
  return bundleCache;
}

/** Text that may sit inside a <script> element: no "</script" or "<!--" can end or confuse it. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/**
 * The <script> that defines `window.Plotly` from the local bundle. It runs the bundle only when
 * the page has no plotly.js of this version yet, and hides `module`, `exports` and `define` so that
 * the bundle's UMD wrapper sets the global even on pages with RequireJS or CommonJS shims.
 */
export function plotlyBundleHTML(): string {
  const { version, source } = plotlySource();
  const guard = `window.Plotly && window.Plotly.version === ${JSON.stringify(version)}`;
  return [
    `<script type="text/javascript" ${BUNDLE_MARKER}="${version}">`,
    `if (!(${guard})) {`,
    `(function (module, exports, define) {`,
    scriptSafe(source),
    `}).call(window);`,
    `// the wrapper also names the bundle "moduleName" on window; only Plotly is wanted`,
    `try { if (window.moduleName === window.Plotly) delete window.moduleName; } catch (e) {}`,
    `}`,
    `</script>`,
  ].join("\n");
}

/** Plain JSON for a figure: typed arrays become arrays, non-finite numbers null; unsupported values are errors. */
export function figureJSON(fig: Figure, fn = "figureHTML"): string {
  if (!isRecord(fig) || !Array.isArray(fig.data) || !isRecord(fig.layout)) {
    throw new Error(`${fn}: fig must be a figure {data: traces[], layout, frames?}, got ${describe(fig)}`);
  }
  if (fig.frames !== undefined && !Array.isArray(fig.frames))
    throw new Error(`${fn}: fig.frames must be an array of frames, got ${describe(fig.frames)}`);
  return JSON.stringify({ data: fig.data, layout: fig.layout, frames: fig.frames ?? [] }, (key, value: unknown) => {
    if (typeof value === "number" && !Number.isFinite(value)) return null;
    if (typeof value === "bigint" || typeof value === "function" || typeof value === "symbol")
      throw new Error(`${fn}: fig has a ${typeof value} at "${key}"; figures hold only JSON data`);
    if (ArrayBuffer.isView(value) && isArrayLike(value))
      return Array.from(value as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : null));
    return value;
  });
}

let figureCount = 0;
const PAGE_TOKEN = randomBytes(4).toString("hex");

/** A fresh element id, unique across processes (several kernels may write into one page). */
export function newFigureId(): string {
  figureCount += 1;
  return `s4-viz-${PAGE_TOKEN}-${figureCount}`;
}

export interface FigureHTMLOptions {
  /** Element id of the figure's <div> (default: a fresh one). */
  id?: string;
}

/** A figure as a <div> plus the <script> that draws it with plotly.js (which must be on the page, see plotlyBundleHTML). */
export function figureHTML(fig: Figure, options: FigureHTMLOptions = {}): string {
  return renderFigure("figureHTML", fig, options.id);
}

/** figureHTML with the name of the public function to blame in errors. */
export function renderFigure(fn: string, fig: Figure, id = newFigureId()): string {
  const json = figureJSON(fig, fn)
    // Only inside JSON strings can these appear; escaped, they cannot end the script or open a comment.
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026");
  if (typeof id !== "string" || !/^[A-Za-z][\w-]*$/.test(id))
    throw new Error(`${fn}: options.id must be letters, digits, "-" or "_" starting with a letter, got ${JSON.stringify(id)}`);
  const height = typeof fig.layout.height === "number" ? `${fig.layout.height}px` : "400px";
  const width = typeof fig.layout.width === "number" ? `${fig.layout.width}px` : "100%";
  // Poll fast at first, then slowly: a notebook may render the bundle's output long after this one
  // (lazy rendering of long notebooks), and a note in the <div> says what is missing meanwhile.
  const script = `(function () {
  var id = "${id}", fig = ${json}, start = Date.now(), seen = false;
  fig.config = { responsive: true, displaylogo: false };
  function draw() {
    var el = document.getElementById(id), waited = Date.now() - start;
    if (el && window.Plotly) { el.textContent = ""; window.Plotly.newPlot(el, fig); return; }
    if (el) seen = true;
    else if (seen) return; // the output was removed
    if (el && waited >= ${NOTE_MS} && !el.textContent) el.textContent = "plotly.js is not loaded on this page: run the notebook's first plotting cell (or viz.loadPlotly()) again.";
    if (waited < ${GIVE_UP_MS}) setTimeout(draw, waited < ${NOTE_MS} ? 50 : 1000);
  }
  draw();
})();`;
  return [
    `<div id="${id}" class="${FIGURE_CLASS}" style="width:${width};height:${height};"></div>`,
    `<script type="text/javascript">`,
    script,
    `</script>`,
  ].join("\n");
}

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A standalone HTML page with plotly.js inlined and the figures one under another; opens offline. */
export function pageHTML(figures: Figure | Figure[], options: { title?: string } = {}): string {
  const list = Array.isArray(figures) ? figures : [figures];
  if (list.length === 0) throw new Error("pageHTML: figures must hold at least one figure, got none");
  const title = options.title ?? "figures";
  if (typeof title !== "string") throw new Error(`pageHTML: options.title must be a string, got ${describe(title)}`);
  return [
    "<!DOCTYPE html>",
    `<html><head><meta charset="utf-8"><title>${escapeText(title)}</title></head>`,
    `<body style="font-family: sans-serif; margin: 16px;">`,
    plotlyBundleHTML(),
    ...list.map((f) => renderFigure("pageHTML", f)),
    "</body></html>",
    "",
  ].join("\n");
}

/** Writes pageHTML(figures) to `file` (through a temporary file, so a failure leaves no half page). */
export function saveHTML(file: string, figures: Figure | Figure[], options: { title?: string } = {}): void {
  if (typeof file !== "string" || file.length === 0) throw new Error(`saveHTML: file must be a path, got ${describe(file)}`);
  const html = pageHTML(figures, options);
  writeFileAtomic(file, html);
}
