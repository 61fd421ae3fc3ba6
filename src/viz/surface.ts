/**
 * 3-D surfaces z over a grid, e.g. |exp(Δ·a)| over a range of a and step sizes Δ: how the
 * discretization maps continuous dynamics to a decay per step.
 */
import { FIGURE_OPTION_KEYS, checkOptions, checkString, coordinates, toMatrix } from "./check";
import { checkColorscale, type Colorscale } from "./heatmap";
import { text } from "./labels";
import { baseLayout } from "./layout";
import type { Figure, FigureOptions, MatrixLike, Numbers } from "./types";

export interface SurfaceOptions extends FigureOptions {
  /** Coordinate of each column of z (default 0, 1, …). */
  x?: Numbers;
  /** Coordinate of each row of z (default 0, 1, …). */
  y?: Numbers;
  /** Title of the vertical axis. */
  zTitle?: string;
  colorscale?: Colorscale;
}

const FN = "surface";
const KEYS = [...FIGURE_OPTION_KEYS, "x", "y", "zTitle", "colorscale"] as const;

/** A surface of `z[i][j]` over (x[j], y[i]). */
export function surface(z: MatrixLike, options: SurfaceOptions = {}): Figure {
  const opts = checkOptions<SurfaceOptions>(FN, options, KEYS);
  const values = toMatrix(FN, "z", z);
  const rows = values.length;
  const cols = values[0].length;
  if (rows < 2 || cols < 2) throw new Error(`${FN}: z must have at least 2 rows and 2 columns to span a surface, got ${rows} × ${cols}`);
  const { layout } = baseLayout(FN, opts, (lang) => ({
    xTitle: `x (${text(lang, "column")})`,
    yTitle: `y (${text(lang, "row")})`,
    height: 500,
  }));
  const x = opts.x === undefined ? values[0].map((_, j) => j) : coordinates(FN, "options.x", opts.x, cols);
  const y = opts.y === undefined ? values.map((_, i) => i) : coordinates(FN, "options.y", opts.y, rows);
  for (const [name, coords] of [
    ["options.x", x],
    ["options.y", y],
  ] as const) {
    coords.forEach((c, k) => {
      if (typeof c !== "number") throw new Error(`${FN}: ${name}[${k}] must be a finite number, got ${JSON.stringify(c)}`);
    });
  }
  const zTitle = checkString(FN, "options.zTitle", opts.zTitle) ?? "z";
  // A 3-D scene has its own axes: move the 2-D axis titles there.
  const xTitle = (layout.xaxis as { title: { text: string } }).title.text;
  const yTitle = (layout.yaxis as { title: { text: string } }).title.text;
  delete layout.xaxis;
  delete layout.yaxis;
  layout.scene = { xaxis: { title: { text: xTitle } }, yaxis: { title: { text: yTitle } }, zaxis: { title: { text: zTitle } } };
  return {
    data: [{ type: "surface", z: values, x, y, colorscale: checkColorscale(FN, "options.colorscale", opts.colorscale) ?? "Viridis" }],
    layout,
  };
}
