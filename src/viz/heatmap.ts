/**
 * Heatmaps of a matrix, drawn the way a matrix is written (row 0 at the top): the HiPPO matrix,
 * a bank of SSM kernels (one row per channel), attention-like maps.
 */
import {
  FIGURE_OPTION_KEYS,
  checkBoolean,
  checkOptions,
  checkString,
  coordinates,
  describe,
  finiteExtent,
  isArrayLike,
  toMatrix,
} from "./check";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import type { Figure, FigureOptions, MatrixLike, Numbers, Trace } from "./types";

/** A named Plotly colorscale ("Viridis", "RdBu", "Greys", …) or [fraction, color] stops. */
export type Colorscale = string | [number, string][];

export interface HeatmapOptions extends FigureOptions {
  /** Label of each column (default 0, 1, …). */
  x?: Numbers | string[];
  /** Label of each row (default 0, 1, …). */
  y?: Numbers | string[];
  /**
   * Default: a diverging scale centred on 0 ("RdBu", red positive) when the values have both
   * signs, else "Viridis".
   */
  colorscale?: Colorscale;
  /** Title of the color bar. */
  colorbarTitle?: string;
  /** Row 0 at the top, as a matrix is written (default true); false puts it at the bottom. */
  matrixOrientation?: boolean;
}

const FN = "heatmap";
const KEYS = [...FIGURE_OPTION_KEYS, "x", "y", "colorscale", "colorbarTitle", "matrixOrientation"] as const;

/** Checks a colorscale: a name or [fraction, color] stops from 0 to 1. */
export function checkColorscale(fn: string, name: string, v: unknown): Colorscale | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string" && v.length > 0) return v;
  const ok =
    isArrayLike(v) &&
    v.length >= 2 &&
    Array.prototype.every.call(
      v,
      (stop: unknown) =>
        Array.isArray(stop) &&
        stop.length === 2 &&
        typeof stop[0] === "number" &&
        stop[0] >= 0 &&
        stop[0] <= 1 &&
        typeof stop[1] === "string",
    ) &&
    (v[0] as [number, string])[0] === 0 &&
    (v[v.length - 1] as [number, string])[0] === 1;
  if (!ok) throw new Error(`${fn}: ${name} must be a colorscale name such as "Viridis" or [[0, color], …, [1, color]], got ${describe(v)}`);
  return v as [number, string][];
}

/** A heatmap of `z` (rows × cols); accepts nested arrays or a CMatrix (its real part). */
export function heatmap(z: MatrixLike, options: HeatmapOptions = {}): Figure {
  const opts = checkOptions<HeatmapOptions>(FN, options, KEYS);
  const values = toMatrix(FN, "z", z);
  const rows = values.length;
  const cols = values[0].length;
  const { layout } = baseLayout(FN, opts, (lang) => ({ xTitle: text(lang, "column"), yTitle: text(lang, "row") }));
  const trace: Trace = { type: "heatmap", z: values, hoverongaps: false };
  if (opts.x !== undefined) trace.x = coordinates(FN, "options.x", opts.x, cols);
  if (opts.y !== undefined) trace.y = coordinates(FN, "options.y", opts.y, rows);
  const colorscale = checkColorscale(FN, "options.colorscale", opts.colorscale);
  const extent = finiteExtent(values);
  if (colorscale !== undefined) {
    trace.colorscale = colorscale;
  } else if (extent && extent[0] < 0 && extent[1] > 0) {
    // Both signs: white at zero so the sign pattern reads at a glance; red for positive.
    trace.colorscale = "RdBu";
    trace.reversescale = true;
    trace.zmid = 0;
  } else {
    trace.colorscale = "Viridis";
  }
  const colorbarTitle = checkString(FN, "options.colorbarTitle", opts.colorbarTitle);
  if (colorbarTitle !== undefined) trace.colorbar = { title: { text: colorbarTitle } };
  if (checkBoolean(FN, "options.matrixOrientation", opts.matrixOrientation) ?? true) axis(layout, "yaxis").autorange = "reversed";
  return { data: [trace], layout };
}
