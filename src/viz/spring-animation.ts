/**
 * The mass-on-a-spring animation of the S4 walkthrough: three panels that advance together, the
 * force pushing the mass (top), the position the SSM computes (middle), and the mass itself on
 * its spring against a wall (bottom). Built on `animation`, so it plays and scrubs the same way.
 */
import { animation } from "./animation";
import {
  FIGURE_OPTION_KEYS,
  checkLang,
  checkOptions,
  checkOptionalPositiveInt,
  checkPositiveNumber,
  describe,
  isRecord,
  numbers,
} from "./check";
import type { Lang } from "./labels";
import type { Figure, FigureOptions, Layout, Numbers, Trace } from "./types";

/** A sampled motion: times t_k, the force u_k and the position y_k (as `exampleSSM` returns). */
export interface SpringMotion {
  t: Numbers;
  u: Numbers;
  y: Numbers;
}

/** `xTitle` names the time axis and `yTitle` the force axis; both have defaults in `lang`. */
export interface SpringAnimationOptions extends FigureOptions {
  /** One frame every `frameStep` samples (default 2). */
  frameStep?: number;
  /** Milliseconds per frame when playing (default 60). */
  frameDuration?: number;
  /** Zig-zag corners of the drawn spring (default 14). */
  coilTurns?: number;
}

const FN = "springAnimation";
const KEYS = [...FIGURE_OPTION_KEYS, "frameStep", "frameDuration", "coilTurns"] as const;

const TEXTS = {
  en: {
    force: "force u",
    position: "position y",
    time: "time t (s)",
    mass: "the mass (position)",
    spring: "spring",
    box: "mass",
    seconds: "s",
  },
  zh: {
    force: "外力 u",
    position: "位置 y",
    time: "时间 t（秒）",
    mass: "物块（位置）",
    spring: "弹簧",
    box: "物块",
    seconds: "秒",
  },
} as const satisfies Record<Lang, Record<string, string>>;
type Words = (typeof TEXTS)[Lang];

const COLORS = { force: "#d62728", position: "#1f77b4", spring: "#7f7f7f", wall: "#333333" };
/** Where the wall stands left of 0, and half the box's width, as fractions of the top position. */
const WALL_OFFSET = 0.32;
const HALF_BOX = 0.06;

/** 5 significant digits: nothing visible is lost, and the figure stays small. */
const round = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(5)));

/** A line trace on the axes `xaxis`/`yaxis` ("x", "x2", …). */
function line(x: unknown[], y: unknown[], axes: [string, string], color: string, name: string): Trace {
  return { type: "scatter", mode: "lines", x, y, xaxis: axes[0], yaxis: axes[1], line: { color }, name };
}

/**
 * The three panels' axes: force over time (top), position over time (middle), and the mass on a
 * position axis from the wall to past the largest position (bottom, its y axis hidden).
 */
function panelLayout(
  time: [number, number],
  force: [number, number],
  yTop: number,
  wall: number,
  words: Words,
  titles: { x?: string; y?: string },
): Layout {
  return {
    showlegend: false,
    xaxis: { domain: [0, 1], anchor: "y", range: time, showticklabels: false },
    yaxis: {
      domain: [0.72, 1],
      anchor: "x",
      range: force,
      title: { text: titles.y ?? words.force },
    },
    xaxis2: { domain: [0, 1], anchor: "y2", range: time, title: { text: titles.x ?? words.time } },
    yaxis2: {
      domain: [0.36, 0.64],
      anchor: "x2",
      range: [-0.1 * yTop, yTop],
      title: { text: words.position },
    },
    xaxis3: {
      domain: [0, 1],
      anchor: "y3",
      range: [wall - 0.05 * yTop, 1.1 * yTop],
      title: { text: words.mass },
    },
    yaxis3: { domain: [0, 0.2], anchor: "x3", range: [-1, 1], visible: false },
    shapes: [
      {
        type: "line",
        xref: "x3",
        yref: "y3",
        x0: wall,
        x1: wall,
        y0: -1,
        y1: 1,
        line: { width: 4, color: COLORS.wall },
      },
    ],
  };
}

/**
 * The animation of a mass on a spring pushed by a force. `motion.t`, `motion.u` and `motion.y`
 * must have the same length (at least 2); every axis range is fixed over the frames, the position
 * axis from the wall to 1.2 × the largest |y|, so the picture does not jump.
 */
export function springAnimation(motion: SpringMotion, options: SpringAnimationOptions = {}): Figure {
  const opts = checkOptions<SpringAnimationOptions>(FN, options, KEYS);
  if (!isRecord(motion)) {
    throw new Error(`${FN}: motion must be {t, u, y} with arrays of numbers, got ${describe(motion)}`);
  }
  const t = numbers(FN, "motion.t", motion.t, 2);
  const u = numbers(FN, "motion.u", motion.u, 2);
  const y = numbers(FN, "motion.y", motion.y, 2);
  if (u.length !== t.length || y.length !== t.length) {
    throw new Error(`${FN}: motion.t, motion.u and motion.y must have the same length, ` + `got ${t.length}, ${u.length} and ${y.length}`);
  }
  const frameStep = checkOptionalPositiveInt(FN, "options.frameStep", opts.frameStep) ?? 2;
  const turns = checkOptionalPositiveInt(FN, "options.coilTurns", opts.coilTurns) ?? 14;
  const frameDuration = checkPositiveNumber(FN, "options.frameDuration", opts.frameDuration) ?? 60;
  const words = TEXTS[checkLang(FN, opts.lang)];

  const finite = (a: (number | null)[]) => a.filter((v): v is number => v !== null);
  const yTop = 1.2 * Math.max(...finite(y).map(Math.abs), 1e-12);
  const wall = -WALL_OFFSET * yTop;
  const uLow = Math.min(0, ...finite(u)),
    uHigh = Math.max(1e-12, ...finite(u));
  const uPad = 0.1 * (uHigh - uLow);
  const times = finite(t);
  const time: [number, number] = [Math.min(...times), Math.max(...times)];

  /** The spring: a zig-zag from the wall to the left side of the box at position p. */
  const coil = (p: number): Trace => {
    const end = p - HALF_BOX * yTop;
    const xs = Array.from({ length: turns + 1 }, (_, i) => wall + ((end - wall) * i) / turns);
    const ys = xs.map((_, i) => (i === 0 || i === turns ? 0 : i % 2 ? 0.5 : -0.5));
    return line(xs, ys, ["x3", "y3"], COLORS.spring, words.spring);
  };
  const frames: Trace[][] = [];
  const frameTimes: number[] = [];
  for (let k = 1; k <= t.length; k += frameStep) {
    const p = y[k - 1] ?? 0;
    const seen = t.slice(0, k);
    const box: Trace = {
      type: "scatter",
      mode: "markers",
      x: [round(p)],
      y: [0],
      xaxis: "x3",
      yaxis: "y3",
      marker: { symbol: "square", size: 34, color: COLORS.position },
      name: words.box,
    };
    frames.push([
      line(seen, u.slice(0, k).map(round), ["x", "y"], COLORS.force, words.force),
      line(seen, y.slice(0, k).map(round), ["x2", "y2"], COLORS.position, words.position),
      coil(p),
      box,
    ]);
    frameTimes.push(t[k - 1] ?? NaN);
  }
  // The slider finds frames by name: enough decimals that no two frames share one.
  const gaps = frameTimes.slice(1).map((v, i) => Math.abs(v - frameTimes[i]));
  const gap = Math.min(...gaps.filter((d) => d > 0));
  const digits = Math.min(8, Math.max(2, Number.isFinite(gap) ? Math.ceil(-Math.log10(gap)) : 2));
  let names = frameTimes.map((v) => `t = ${v.toFixed(digits)} ${words.seconds}`);
  if (new Set(names).size < names.length) names = names.map((name, k) => `${name} #${k}`);
  return animation(frames, {
    title: opts.title,
    lang: opts.lang,
    width: opts.width,
    height: opts.height ?? 620,
    frameNames: names,
    frameDuration,
    layout: panelLayout(time, [uLow - uPad, uHigh + uPad], yTop, wall, words, { x: opts.xTitle, y: opts.yTitle }),
  });
}
