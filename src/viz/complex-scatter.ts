/**
 * Points in the complex plane: eigenvalues Λ of the DPLR HiPPO matrix, S4D initializations, the
 * discrete poles exp(Δ·λ) against the unit circle.
 */
import {
  FIGURE_OPTION_KEYS,
  rejectTensor,
  checkBoolean,
  checkOptions,
  checkPositiveNumber,
  describe,
  isArrayLike,
  isRecord,
  numbers,
} from "./check";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import type { Figure, FigureOptions, Numbers, Trace } from "./types";

/** Complex numbers as separate real and imaginary parts (the library's CVector fits). */
export interface ComplexSeries {
  name?: string;
  re: Numbers;
  im: Numbers;
}

export interface ComplexScatterOptions extends FigureOptions {
  /** Draw the unit circle |z| = 1 (default false). */
  unitCircle?: boolean;
  /** Same scale on both axes, so circles look round (default true). */
  equalAxes?: boolean;
  /** Marker diameter in pixels (default 7). */
  markerSize?: number;
}

const FN = "complexScatter";
const KEYS = [...FIGURE_OPTION_KEYS, "unitCircle", "equalAxes", "markerSize"] as const;
const CIRCLE_POINTS = 181;

/** Points in the complex plane: one `{re, im}` series (e.g. a CVector) or an array of named ones. */
export function complexScatter(points: ComplexSeries | ComplexSeries[], options: ComplexScatterOptions = {}): Figure {
  const opts = checkOptions<ComplexScatterOptions>(FN, options, KEYS);
  rejectTensor(FN, "points", points);
  const list = Array.isArray(points) ? points : [points];
  if (list.length === 0) throw new Error(`${FN}: points must hold at least one series, got none`);
  const { lang, layout } = baseLayout(FN, opts, (l) => ({ xTitle: text(l, "real"), yTitle: text(l, "imag"), height: 450 }));
  const size = checkPositiveNumber(FN, "options.markerSize", opts.markerSize) ?? 7;
  const data: Trace[] = list.map((s, i) => {
    const label = Array.isArray(points) ? `points[${i}]` : "points";
    if (!isRecord(s) || !isArrayLike(s.re) || !isArrayLike(s.im))
      throw new Error(`${FN}: ${label} must be {name?, re, im} with arrays of numbers, got ${describe(s)}`);
    if (s.name !== undefined && typeof s.name !== "string")
      throw new Error(`${FN}: ${label}.name must be a string, got ${describe(s.name)}`);
    const re = numbers(FN, `${label}.re`, s.re);
    const im = numbers(FN, `${label}.im`, s.im);
    if (re.length !== im.length)
      throw new Error(`${FN}: ${label}.re and ${label}.im must have the same length, got ${re.length} and ${im.length}`);
    const trace: Trace = { type: "scatter", mode: "markers", x: re, y: im, marker: { size } };
    if (s.name !== undefined) trace.name = s.name;
    return trace;
  });
  if (checkBoolean(FN, "options.unitCircle", opts.unitCircle)) {
    const angles = Array.from({ length: CIRCLE_POINTS }, (_, k) => (2 * Math.PI * k) / (CIRCLE_POINTS - 1));
    data.push({
      type: "scatter",
      mode: "lines",
      name: text(lang, "unitCircle"),
      x: angles.map(Math.cos),
      y: angles.map(Math.sin),
      line: { dash: "dot", width: 1, color: "#888888" },
      hoverinfo: "skip",
    });
  }
  layout.showlegend = data.length > 1;
  axis(layout, "xaxis").zeroline = true;
  axis(layout, "yaxis").zeroline = true;
  if (checkBoolean(FN, "options.equalAxes", opts.equalAxes) ?? true)
    Object.assign(axis(layout, "yaxis"), { scaleanchor: "x", scaleratio: 1 });
  return { data, layout };
}
