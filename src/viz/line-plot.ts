/**
 * Line plots of one or more named series against a shared or per-series x (default: 0, 1, …):
 * signals, kernels, losses.
 */
import { FIGURE_OPTION_KEYS, rejectTensor, checkBoolean, checkOptions, coordinates, describe, isNumbers, isRecord, numbers } from "./check";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import type { Figure, FigureOptions, Numbers, Trace } from "./types";

export type LineMode = "lines" | "markers" | "lines+markers";
const MODES: readonly LineMode[] = ["lines", "markers", "lines+markers"];

/** One series of a line plot. */
export interface LineSeries {
  name?: string;
  y: Numbers;
  /** x of each point (default: the plot's `options.x`, else 0, 1, …). */
  x?: Numbers | string[];
  mode?: LineMode;
}

export interface LinePlotOptions extends FigureOptions {
  /** x shared by the series that have none of their own. */
  x?: Numbers | string[];
  /** How points are drawn when a series does not say (default "lines"). */
  mode?: LineMode;
  logX?: boolean;
  logY?: boolean;
}

const FN = "linePlot";
const KEYS = [...FIGURE_OPTION_KEYS, "x", "mode", "logX", "logY"] as const;

function checkMode(name: string, mode: unknown): LineMode | undefined {
  if (mode === undefined) return undefined;
  if (!MODES.includes(mode as LineMode))
    throw new Error(`${FN}: ${name} must be one of ${MODES.map((m) => `"${m}"`).join(", ")}, got ${describe(mode)}`);
  return mode as LineMode;
}

/** The forms a caller may pass, as a list of series. */
function seriesList(series: unknown): LineSeries[] {
  rejectTensor(FN, "series", series);
  if (isNumbers(series)) return [{ y: series }];
  if (Array.isArray(series)) {
    series.forEach((s, i) => {
      if (!isRecord(s) || !("y" in s)) throw new Error(`${FN}: series[${i}] must be {name?, y, x?, mode?}, got ${describe(s)}`);
    });
    return series as LineSeries[];
  }
  if (isRecord(series)) {
    // An object with a `y` key is one series ({name?, y, x?}); any other object maps names to values.
    if ("y" in series) return [series as unknown as LineSeries];
    return Object.entries(series).map(([name, y]) => ({ name, y: y as Numbers }));
  }
  throw new Error(
    `${FN}: series must be an array of numbers, a {name: numbers} object or an array of {name?, y, x?}, got ${describe(series)}`,
  );
}

/**
 * A line plot. `series` is an array of numbers (one series), an object of named series
 * (`{loss: [...], accuracy: [...]}`) or an array of `{name, y, x?, mode?}`.
 */
export function linePlot(series: Numbers | LineSeries | LineSeries[] | Record<string, Numbers>, options: LinePlotOptions = {}): Figure {
  const opts = checkOptions<LinePlotOptions>(FN, options, KEYS);
  const list = seriesList(series);
  if (list.length === 0) throw new Error(`${FN}: series must hold at least one series, got none`);
  const { layout } = baseLayout(FN, opts, (lang) => ({ xTitle: text(lang, "index"), yTitle: text(lang, "value") }));
  const mode = checkMode("options.mode", opts.mode) ?? "lines";
  const named = list.some((s) => s.name !== undefined);
  const data: Trace[] = list.map((s, i) => {
    const label = `series[${i}]${s.name !== undefined ? ` ("${s.name}")` : ""}`;
    if (s.name !== undefined && typeof s.name !== "string")
      throw new Error(`${FN}: ${label}.name must be a string, got ${describe(s.name)}`);
    const y = numbers(FN, `${label}.y`, s.y);
    const xSource = s.x ?? opts.x;
    const xName = s.x !== undefined ? `${label}.x` : "options.x";
    const x = xSource === undefined ? y.map((_, k) => k) : coordinates(FN, xName, xSource, y.length);
    const trace: Trace = { type: "scatter", mode: checkMode(`${label}.mode`, s.mode) ?? mode, x, y };
    if (s.name !== undefined) trace.name = s.name;
    return trace;
  });
  layout.showlegend = named && list.length > 1;
  if (checkBoolean(FN, "options.logX", opts.logX)) axis(layout, "xaxis").type = "log";
  if (checkBoolean(FN, "options.logY", opts.logY)) axis(layout, "yaxis").type = "log";
  return { data, layout };
}
