/**
 * Showing figures in a notebook through the tslab kernel's display. plotly.js (read from
 * node_modules) goes out once per kernel process, in an output of its own, before the first
 * figure; later figures only carry their data. Keeping the bundle in its own output means a live
 * chart that replaces its output can never take the bundle away with it.
 *
 * Which display: an explicit `options.display`, else one set with `setDisplay`, else the display
 * of the tslab kernel that runs this process, whichever copy of tslab that is (./tslab-kernel.ts).
 */
import { checkOptions, describe, isRecord } from "./check";
import { plotlyBundleHTML, renderFigure } from "./html";
import { findTslab } from "./tslab-kernel";
import type { Figure } from "./types";

/** Where HTML goes: tslab's `display` fits, as does anything with an `html(s)` method. */
export interface HtmlDisplay {
  html(s: string): void;
}

/** A display that can also open outputs that are updated in place (tslab's `newDisplay`). */
export interface DisplayTarget extends HtmlDisplay {
  /** A new output; its first `html` call creates it, later calls replace its content. */
  newDisplay(): HtmlDisplay;
}

export interface ShowOptions {
  /** Where to write (default: the one from setDisplay, else the tslab kernel's display). */
  display?: DisplayTarget;
}

let chosen: DisplayTarget | undefined;
let bundleSent = false;

/** Makes `show`, `liveChart` and `loadPlotly` write to `target` (undefined: back to tslab's display). */
export function setDisplay(target?: DisplayTarget): void {
  if (target !== undefined) checkTarget("setDisplay", "target", target);
  chosen = target;
}

function checkTarget(fn: string, name: string, target: unknown): DisplayTarget {
  if (!isRecord(target) || typeof target.html !== "function" || typeof target.newDisplay !== "function") {
    throw new Error(`${fn}: ${name} must have html(s) and newDisplay() methods (like tslab's display), got ${describe(target)}`);
  }
  return target as unknown as DisplayTarget;
}

/** Calls `write`, turning tslab's "Not ready" (no kernel running) into an explanation. */
function guarded(fn: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    if (e instanceof Error && /Not ready/.test(e.message)) {
      throw new Error(
        `${fn}: no notebook to display in (tslab's display works only inside a running tslab kernel); outside a notebook use viz.saveHTML(file, figures) or pass options.display`,
      );
    }
    throw e;
  }
}

/** The tslab kernel's display, or an explanation of why there is none. */
function tslabTarget(fn: string): DisplayTarget {
  const tslab = findTslab();
  if (!tslab) {
    throw new Error(
      `${fn}: no running tslab kernel was found and the tslab package is not installed ` +
        "here, so there is no notebook display; outside a notebook use " +
        "viz.saveHTML(file, figures) or pass options.display",
    );
  }
  return {
    html: (s) => guarded(fn, () => tslab.display.html(s)),
    newDisplay: () => {
      const d = tslab.newDisplay();
      return { html: (s: string) => guarded(fn, () => d.html(s)) };
    },
  };
}

/** The display to write to for this call. */
export function resolveDisplay(fn: string, display: unknown): DisplayTarget {
  if (display !== undefined) return checkTarget(fn, "options.display", display);
  return chosen ?? tslabTarget(fn);
}

/**
 * Sends plotly.js to the notebook (about 11 MB, once): call it in a notebook's first cell so that
 * the bundle sits at the top of the saved notebook and its HTML export. `show` calls it by itself
 * when nothing was sent yet in this kernel process.
 */
export function loadPlotly(options: ShowOptions = {}): void {
  const opts = checkOptions<ShowOptions>("loadPlotly", options, ["display"]);
  const target = resolveDisplay("loadPlotly", opts.display);
  target.html(plotlyBundleHTML());
  bundleSent = true;
}

/** Sends plotly.js unless this process has already sent it. */
export function ensurePlotly(target: DisplayTarget): void {
  if (bundleSent) return;
  target.html(plotlyBundleHTML());
  bundleSent = true;
}

/** Whether plotly.js has gone out from this process. */
export function plotlySent(): boolean {
  return bundleSent;
}

/** Displays a figure in the notebook (plotly.js first, if this kernel has not sent it yet). */
export function show(fig: Figure, options: ShowOptions = {}): void {
  const opts = checkOptions<ShowOptions>("show", options, ["display"]);
  const target = resolveDisplay("show", opts.display);
  const html = renderFigure("show", fig); // checks the figure before anything is written
  ensurePlotly(target);
  target.html(html);
}
