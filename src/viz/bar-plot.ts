/**
 * Grouped bar charts: several named series side by side per category, e.g. the gradient of each
 * parameter from two implementations, or per-class accuracies of two models.
 */
import { FIGURE_OPTION_KEYS, rejectTensor, checkBoolean, checkOptions, coordinates, describe, isNumbers, isRecord, numbers } from "./check";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import type { Figure, FigureOptions, Numbers, Trace } from "./types";

/** One series of bars: a value per category. */
export interface BarSeries {
  name?: string;
  values: Numbers;
}

export interface BarPlotOptions extends FigureOptions {
  /** A label per category (default 0, 1, …); strings make a category axis. */
  categories?: Numbers | string[];
  /** Bars along y with categories on the vertical axis. */
  horizontal?: boolean;
  logY?: boolean;
}

const FN = "barPlot";
const KEYS = [...FIGURE_OPTION_KEYS, "categories", "horizontal", "logY"] as const;

function seriesList(series: unknown): BarSeries[] {
  rejectTensor(FN, "series", series);
  if (isNumbers(series)) return [{ values: series }];
  if (Array.isArray(series)) {
    series.forEach((s, i) => {
      if (!isRecord(s) || !("values" in s)) throw new Error(`${FN}: series[${i}] must be {name?, values}, got ${describe(s)}`);
    });
    return series as BarSeries[];
  }
  if (isRecord(series)) return Object.entries(series).map(([name, values]) => ({ name, values: values as Numbers }));
  throw new Error(
    `${FN}: series must be an array of numbers, a {name: numbers} object or an array of {name?, values}, got ${describe(series)}`,
  );
}

/**
 * A grouped bar chart: one bar per series in each category. `series` is an array of numbers, an
 * object of named series (`{fast: [...], reference: [...]}`) or an array of `{name, values}`;
 * all series have one value per category.
 */
export function barPlot(series: Numbers | BarSeries[] | Record<string, Numbers>, options: BarPlotOptions = {}): Figure {
  const opts = checkOptions<BarPlotOptions>(FN, options, KEYS);
  const list = seriesList(series);
  if (list.length === 0) throw new Error(`${FN}: series must hold at least one series, got none`);
  const horizontal = checkBoolean(FN, "options.horizontal", opts.horizontal) ?? false;
  const { layout } = baseLayout(FN, opts, (lang) =>
    horizontal
      ? { xTitle: text(lang, "value"), yTitle: text(lang, "category") }
      : { xTitle: text(lang, "category"), yTitle: text(lang, "value") },
  );
  const valueLists = list.map((s, i) => {
    const label = `series[${i}]${s.name !== undefined ? ` ("${s.name}")` : ""}`;
    if (s.name !== undefined && typeof s.name !== "string")
      throw new Error(`${FN}: ${label}.name must be a string, got ${describe(s.name)}`);
    return numbers(FN, `${label}.values`, s.values);
  });
  const count = valueLists[0].length;
  valueLists.forEach((v, i) => {
    if (v.length !== count)
      throw new Error(`${FN}: every series must have one value per category: series[0] has ${count}, series[${i}] has ${v.length}`);
  });
  const categories =
    opts.categories === undefined ? valueLists[0].map((_, k) => k) : coordinates(FN, "options.categories", opts.categories, count);
  const data: Trace[] = list.map((s, i) => {
    const trace: Trace = horizontal
      ? { type: "bar", orientation: "h", x: valueLists[i], y: categories }
      : { type: "bar", x: categories, y: valueLists[i] };
    if (s.name !== undefined) trace.name = s.name;
    return trace;
  });
  layout.barmode = "group";
  layout.showlegend = list.length > 1 && list.some((s) => s.name !== undefined);
  // Numbered categories: one tick per bar group, not a continuous axis with half-steps.
  if (opts.categories === undefined || categories.every((c) => typeof c === "number"))
    axis(layout, horizontal ? "yaxis" : "xaxis").type = "category";
  if (checkBoolean(FN, "options.logY", opts.logY)) axis(layout, horizontal ? "xaxis" : "yaxis").type = "log";
  return { data, layout };
}
