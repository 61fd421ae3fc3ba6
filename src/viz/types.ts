/**
 * The shapes that every figure builder returns and takes: a Plotly figure as plain JSON-able data
 * (`{data, layout, frames?}`), the options all builders share, and the array types they accept.
 * Nothing here depends on tensors: read a tensor first (`await t.array()` / `await t.data()`).
 */
import type { Lang } from "./labels";

/** One Plotly trace: `type` plus the attributes of that trace type (see plotly.js's reference). */
export type Trace = { type?: string } & Record<string, unknown>;

/** Plotly layout attributes. */
export type Layout = Record<string, unknown>;

/** One animation frame: the traces it shows (in the order of the figure's `data`) and its name. */
export interface Frame {
  name: string;
  data: Trace[];
  layout?: Layout;
}

/** What every builder returns and `show` displays: plain data, so it can be saved as JSON. */
export interface Figure {
  data: Trace[];
  layout: Layout;
  frames?: Frame[];
}

/** Numbers: a plain array or a typed array (Float32Array from `await t.data()`). */
export type Numbers = ArrayLike<number>;

/**
 * A matrix: nested arrays (`await t.array()` of a 2-D tensor) or anything with `toNested()`, such
 * as the library's float64 `CMatrix` (its real part).
 */
export type MatrixLike = ArrayLike<ArrayLike<number>> | { toNested(): ArrayLike<ArrayLike<number>> };

/** Options that every figure builder takes. */
export interface FigureOptions {
  /** Figure title. */
  title?: string;
  /** Language of the default texts (axis titles, button labels): "en" (default) or "zh". */
  lang?: Lang;
  /** Height in pixels (default depends on the figure, e.g. 400). */
  height?: number;
  /** Width in pixels (default: as wide as the output area). */
  width?: number;
  /** Title of the x axis (default: a text in `lang` that fits the figure). */
  xTitle?: string;
  /** Title of the y axis. */
  yTitle?: string;
}
