/**
 * Animations: a list of frames, each the traces to show at that moment, played with a button and
 * scrubbed with a slider (e.g. a mass on a spring moving under a force, a kernel as Δ changes).
 * Axis ranges are fixed over all frames, so the picture does not jump as values change.
 */
import { FIGURE_OPTION_KEYS, checkOptions, checkPositiveNumber, checkRange, describe, isArrayLike, isRecord } from "./check";
import { text } from "./labels";
import { axis, baseLayout } from "./layout";
import type { Figure, FigureOptions, Frame, Layout, Trace } from "./types";

export interface AnimationOptions extends FigureOptions {
  /** A name per frame, shown on the slider (default "0", "1", …). */
  frameNames?: string[];
  /** Milliseconds per frame when playing (default 50). */
  frameDuration?: number;
  /** Fixed x range (default: the extent of every frame's x values, padded 5 %). */
  xRange?: [number, number];
  /** Fixed y range (default: as for x). */
  yRange?: [number, number];
  /** More layout attributes, merged over the defaults (e.g. shapes, annotations). */
  layout?: Layout;
}

const FN = "animation";
const KEYS = [...FIGURE_OPTION_KEYS, "frameNames", "frameDuration", "xRange", "yRange", "layout"] as const;
/** Trace types whose frames can be drawn by moving what is there, without a full redraw. */
const SMOOTH_TYPES = new Set(["scatter", undefined]);

/** Smallest and largest finite number under `key` ("x" or "y") over all frames' traces, padded. */
function extentOf(frames: Trace[][], key: "x" | "y"): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const frame of frames) {
    for (const trace of frame) {
      const values = trace[key];
      if (!isArrayLike(values)) continue;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== "number" || !Number.isFinite(v)) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (!(lo <= hi)) return undefined;
  const pad = hi > lo ? 0.05 * (hi - lo) : Math.max(Math.abs(lo) * 0.05, 1);
  return [lo - pad, hi + pad];
}

/**
 * An animated figure. `frames[k]` is the list of traces of frame k (Plotly trace objects, e.g.
 * `{type: "scatter", x: [...], y: [...]}`); every frame has the same number of traces, in the
 * same order. The figure first shows frame 0.
 */
export function animation(frames: Trace[][], options: AnimationOptions = {}): Figure {
  const opts = checkOptions<AnimationOptions>(FN, options, KEYS);
  if (!isArrayLike(frames) || frames.length === 0)
    throw new Error(`${FN}: frames must be a non-empty array of frames (each an array of traces), got ${describe(frames)}`);
  const list = Array.from(frames);
  let traceCount = -1;
  list.forEach((frame, k) => {
    if (!Array.isArray(frame) || frame.length === 0)
      throw new Error(`${FN}: frames[${k}] must be a non-empty array of traces, got ${describe(frame)}`);
    frame.forEach((trace, t) => {
      if (!isRecord(trace))
        throw new Error(`${FN}: frames[${k}][${t}] must be a trace object such as {type: "scatter", x, y}, got ${describe(trace)}`);
      if (trace.type !== undefined && typeof trace.type !== "string")
        throw new Error(`${FN}: frames[${k}][${t}].type must be a string, got ${describe(trace.type)}`);
    });
    if (traceCount < 0) traceCount = frame.length;
    else if (frame.length !== traceCount)
      throw new Error(
        `${FN}: every frame must have the same number of traces: frames[0] has ${traceCount}, frames[${k}] has ${frame.length}`,
      );
  });
  let names: string[];
  if (opts.frameNames !== undefined) {
    const fn = opts.frameNames;
    if (!isArrayLike(fn) || fn.length !== list.length || !Array.prototype.every.call(fn, (s: unknown) => typeof s === "string")) {
      throw new Error(`${FN}: options.frameNames must be one string per frame (${list.length}), got ${describe(fn)}`);
    }
    names = Array.from(fn);
    if (new Set(names).size !== names.length)
      throw new Error(`${FN}: options.frameNames must be distinct (the slider finds frames by name)`);
  } else {
    names = list.map((_, k) => String(k));
  }
  const duration = checkPositiveNumber(FN, "options.frameDuration", opts.frameDuration) ?? 50;
  if (opts.layout !== undefined && !isRecord(opts.layout))
    throw new Error(`${FN}: options.layout must be an object of layout attributes, got ${describe(opts.layout)}`);
  const { lang, layout } = baseLayout(FN, opts, () => ({ xTitle: "x", yTitle: "y", height: 450 }));
  const xRange = checkRange(FN, "options.xRange", opts.xRange) ?? extentOf(list, "x");
  const yRange = checkRange(FN, "options.yRange", opts.yRange) ?? extentOf(list, "y");
  if (xRange) Object.assign(axis(layout, "xaxis"), { range: xRange, autorange: false });
  if (yRange) Object.assign(axis(layout, "yaxis"), { range: yRange, autorange: false });

  const redraw = !list.every((frame) => frame.every((trace) => SMOOTH_TYPES.has(trace.type)));
  const step = (frameDuration: number) => ({ mode: "immediate", frame: { duration: frameDuration, redraw }, transition: { duration: 0 } });
  layout.margin = { ...(layout.margin as object), b: 110 };
  layout.updatemenus = [
    {
      type: "buttons",
      direction: "left",
      showactive: false,
      x: 0,
      xanchor: "left",
      y: 0,
      yanchor: "top",
      pad: { t: 60, r: 10 },
      buttons: [
        { label: text(lang, "play"), method: "animate", args: [null, { ...step(duration), fromcurrent: true }] },
        { label: text(lang, "pause"), method: "animate", args: [[null], step(0)] },
      ],
    },
  ];
  layout.sliders = [
    {
      active: 0,
      x: 0.12,
      len: 0.88,
      y: 0,
      yanchor: "top",
      pad: { t: 50 },
      currentvalue: { prefix: text(lang, "frame"), visible: true },
      steps: names.map((name) => ({ label: name, method: "animate", args: [[name], step(0)] })),
    },
  ];
  if (opts.layout) Object.assign(layout, opts.layout);
  const figureFrames: Frame[] = list.map((frame, k) => ({ name: names[k], data: frame }));
  return { data: list[0].map((trace) => ({ ...trace })), layout, frames: figureFrames };
}
