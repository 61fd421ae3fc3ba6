/**
 * A chart that follows a training run: it is displayed once and then redrawn in place as points
 * arrive. Each redraw replaces the chart's own output (Jupyter's update_display_data, which tslab
 * sends for a `newDisplay()` handle), so a live notebook shows the curve growing, and an executed
 * notebook (nbconvert/nbclient apply the same updates) keeps only the final chart, not one copy per
 * update. Redraws are throttled; `done()` draws whatever is still pending.
 */
import { FIGURE_OPTION_KEYS, checkBoolean, checkOptions, checkOptionalPositiveInt, describe, isArrayLike, isRecord } from "./check";
import { renderFigure } from "./html";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import { ensurePlotly, resolveDisplay, type DisplayTarget, type HtmlDisplay } from "./show";
import type { Figure, FigureOptions, Layout, Trace } from "./types";

export interface LiveChartOptions extends FigureOptions {
  /** Names of the curves, e.g. ["train loss", "val loss"]. */
  series: string[];
  logY?: boolean;
  /** Least time between two redraws in milliseconds (default 500; 0 redraws on every push). */
  minIntervalMs?: number;
  /** Most points drawn per curve; longer curves are thinned evenly, keeping the last point (default 2000). */
  maxPoints?: number;
  /** Where to display (default: as for show). */
  display?: DisplayTarget;
}

export interface LiveChart {
  /**
   * Adds the point (x, value) to each named curve: `values` maps series names to values (curves
   * not named get no point), or is a number when the chart has one curve.
   */
  push(x: number, values: Record<string, number> | number): void;
  /** Redraws now if points arrived since the last redraw. Call it after the loop. */
  done(): void;
  /** The chart as a figure, with every point so far. */
  figure(): Figure;
}

const FN = "liveChart";
const KEYS = [...FIGURE_OPTION_KEYS, "series", "logY", "minIntervalMs", "maxPoints", "display"] as const;

/** Every point if there are at most `max`, else `max` points evenly spread, always with the last. */
function thin(values: (number | null)[], max: number): (number | null)[] {
  if (values.length <= max) return values.slice();
  const out: (number | null)[] = [];
  for (let k = 0; k < max; k++) out.push(values[Math.round((k * (values.length - 1)) / (max - 1))]);
  return out;
}

/** Displays an empty chart now and returns the handle that adds points to it. */
export function liveChart(options: LiveChartOptions): LiveChart {
  const opts = checkOptions<LiveChartOptions>(FN, options, KEYS);
  if (options === undefined) throw new Error(`${FN}: options.series is required (the names of the curves)`);
  const names = opts.series;
  if (
    !isArrayLike(names) ||
    names.length === 0 ||
    !Array.prototype.every.call(names, (s: unknown) => typeof s === "string" && s.length > 0)
  ) {
    throw new Error(`${FN}: options.series must be a non-empty array of curve names, got ${describe(names)}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`${FN}: options.series must not repeat a name, got ${JSON.stringify(names)}`);
  const { layout } = baseLayout(FN, opts, (lang) => ({ xTitle: text(lang, "step"), yTitle: text(lang, "value") }));
  if (checkBoolean(FN, "options.logY", opts.logY)) axis(layout, "yaxis").type = "log";
  layout.showlegend = names.length > 1;
  const minInterval = opts.minIntervalMs ?? 500;
  if (typeof minInterval !== "number" || !Number.isFinite(minInterval) || minInterval < 0) {
    throw new Error(`${FN}: options.minIntervalMs must be a finite number ≥ 0, got ${describe(minInterval)}`);
  }
  const maxPoints = checkOptionalPositiveInt(FN, "options.maxPoints", opts.maxPoints) ?? 2000;
  if (maxPoints < 2) throw new Error(`${FN}: options.maxPoints must be at least 2, got ${maxPoints}`);

  const xs = names.map((): number[] => []);
  const ys = names.map((): (number | null)[] => []);
  const figure = (limit = Infinity): Figure => ({
    data: names.map((name, i): Trace => ({ type: "scatter", mode: "lines", name, x: thin(xs[i], limit), y: thin(ys[i], limit) })),
    layout: JSON.parse(JSON.stringify(layout)) as Layout,
  });

  const target = resolveDisplay(FN, opts.display);
  ensurePlotly(target);
  const output: HtmlDisplay = target.newDisplay();
  output.html(renderFigure(FN, figure(maxPoints)));
  let lastDraw = Date.now();
  let pending = false;
  const draw = (): void => {
    output.html(renderFigure(FN, figure(maxPoints)));
    lastDraw = Date.now();
    pending = false;
  };

  return {
    push(x: number, values: Record<string, number> | number): void {
      if (typeof x !== "number" || !Number.isFinite(x)) throw new Error(`${FN}: push: x must be a finite number, got ${describe(x)}`);
      let entries: [string, unknown][];
      if (typeof values === "number") {
        if (names.length !== 1)
          throw new Error(
            `${FN}: push: values must be {name: value} for a chart of ${names.length} curves (${names.join(", ")}), got a single number`,
          );
        entries = [[names[0], values]];
      } else if (isRecord(values)) {
        entries = Object.entries(values);
      } else {
        throw new Error(`${FN}: push: values must be {name: value} or a number, got ${describe(values)}`);
      }
      const points = entries.map(([name, v]) => {
        const i = names.indexOf(name);
        if (i < 0) throw new Error(`${FN}: push: unknown series "${name}"; the chart has ${names.map((n) => `"${n}"`).join(", ")}`);
        if (typeof v !== "number") throw new Error(`${FN}: push: values["${name}"] must be a number, got ${describe(v)}`);
        return [i, Number.isFinite(v) ? v : null] as const;
      });
      for (const [i, v] of points) {
        xs[i].push(x);
        ys[i].push(v);
      }
      pending = true;
      if (Date.now() - lastDraw >= minInterval) draw();
    },
    done(): void {
      if (pending) draw();
    },
    figure: () => figure(),
  };
}
