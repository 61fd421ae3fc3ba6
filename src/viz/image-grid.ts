/**
 * A grid of grayscale images with a title over each, e.g. MNIST digits (28 × 28) or generated
 * completions. A tint marks chosen pixels in a second color, such as the prefix that a generator
 * was given, so that the given part and the generated part read apart.
 *
 * The grid is drawn as one mosaic: all panels side by side in one pixel plane with empty (null)
 * gaps, as two heatmaps (the gray pixels and the tinted ones), titles as annotations. One plane
 * keeps the figure light even for dozens of panels; pixel values keep 5 significant digits.
 */
import {
  FIGURE_OPTION_KEYS,
  checkOptions,
  checkOptionalPositiveInt,
  checkPositiveNumber,
  checkRange,
  describe,
  finiteExtent,
  isArrayLike,
  isNumbers,
  isRecord,
  matrix,
  numbers,
} from "./check";
import { baseLayout } from "./layout";
import type { Figure, FigureOptions, MatrixLike, Numbers, Trace } from "./types";

export interface ImageGridOptions extends FigureOptions {
  /** A title per image (shown above it). */
  titles?: string[];
  /** Panels per row (default: up to 8). */
  columns?: number;
  /** [height, width] of flat images (default: square, side √length). */
  shape?: [number, number];
  /** Values mapped to black and white (default: smallest and largest over all images). */
  range?: [number, number];
  /** Tint the first k pixels (row-major) of every image, or k[i] of image i. */
  tintPrefix?: number | number[];
  /** Pixels to tint: one mask (row-major, truthy = tinted) for all images, or one per image. */
  tintMask?: ArrayLike<boolean | number> | ArrayLike<boolean | number>[];
  /** Color of tinted ink, "#rrggbb" (default "#ff7f0e", orange). */
  tintColor?: string;
  /** Width of one panel on screen in pixels (default 96). */
  panelSize?: number;
}

const FN = "imageGrid";
const KEYS = [...FIGURE_OPTION_KEYS, "titles", "columns", "shape", "range", "tintPrefix", "tintMask", "tintColor", "panelSize"] as const;
const GAP = 2; // empty pixels between panels
const GRAY: [number, string][] = [
  [0, "#000000"],
  [1, "#ffffff"],
];
/** Significant digits kept per pixel: far below what a gray level shows, and it keeps the HTML small. */
const DIGITS = 5;

function short(v: number | null): number | null {
  return v === null ? null : Number(v.toPrecision(DIGITS));
}

/** Mixes "#rrggbb" with black (t < 0) or white (t > 0) by |t|. */
function shade(hex: string, t: number): string {
  const rgb = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  const mixed = rgb.map((c) => Math.round(t < 0 ? c * (1 + t) : c + (255 - c) * t));
  return `#${mixed.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** Each image as a flat row-major array, all of one shape. */
function flatImages(images: unknown, shapeOption: unknown): { pixels: (number | null)[][]; h: number; w: number } {
  if (!isArrayLike(images) || images.length === 0)
    throw new Error(`${FN}: images must be a non-empty array of images, got ${describe(images)}`);
  let shape: [number, number] | undefined;
  if (shapeOption !== undefined) {
    const ok =
      isArrayLike(shapeOption) &&
      shapeOption.length === 2 &&
      Array.prototype.every.call(shapeOption, (d: unknown) => Number.isInteger(d) && (d as number) > 0);
    if (!ok) throw new Error(`${FN}: options.shape must be [height, width] with positive integers, got ${describe(shapeOption)}`);
    shape = [shapeOption[0] as number, shapeOption[1] as number];
  }
  const pixels: (number | null)[][] = [];
  let h = 0;
  let w = 0;
  Array.prototype.forEach.call(images, (image: unknown, i: number) => {
    let flat: (number | null)[];
    let ih: number;
    let iw: number;
    if (isNumbers(image)) {
      flat = numbers(FN, `images[${i}]`, image);
      if (shape) {
        [ih, iw] = shape;
        if (flat.length !== ih * iw)
          throw new Error(
            `${FN}: images[${i}] must hold height · width = ${ih * iw} pixels for options.shape [${ih}, ${iw}], got ${flat.length}`,
          );
      } else {
        ih = iw = Math.round(Math.sqrt(flat.length));
        if (ih * iw !== flat.length)
          throw new Error(`${FN}: images[${i}] has ${flat.length} pixels, not a square number; give options.shape [height, width]`);
      }
    } else if (isArrayLike(image) || (isRecord(image) && typeof image.toNested === "function")) {
      const rows = matrix(FN, `images[${i}]`, image as MatrixLike);
      ih = rows.length;
      iw = rows[0].length;
      flat = rows.flat();
    } else {
      throw new Error(`${FN}: images[${i}] must be a flat array of pixels or a matrix (rows of pixels), got ${describe(image)}`);
    }
    if (i === 0) [h, w] = [ih, iw];
    else if (ih !== h || iw !== w)
      throw new Error(`${FN}: all images must have one shape: images[0] is ${h} × ${w}, images[${i}] is ${ih} × ${iw}`);
    pixels.push(flat);
  });
  return { pixels, h, w };
}

/** For each image, which pixels are tinted (or null when none are). */
function tintMasks(opts: ImageGridOptions, count: number, size: number): (boolean[] | null)[] {
  if (opts.tintPrefix !== undefined && opts.tintMask !== undefined)
    throw new Error(`${FN}: give options.tintPrefix or options.tintMask, not both`);
  if (opts.tintPrefix !== undefined) {
    const prefixes = typeof opts.tintPrefix === "number" ? new Array<number>(count).fill(opts.tintPrefix) : opts.tintPrefix;
    if (!isArrayLike(prefixes) || prefixes.length !== count)
      throw new Error(`${FN}: options.tintPrefix must be a number or one number per image (${count}), got ${describe(opts.tintPrefix)}`);
    return Array.from(prefixes, (k, i) => {
      if (!Number.isInteger(k) || k < 0 || k > size)
        throw new Error(
          `${FN}: options.tintPrefix${typeof opts.tintPrefix === "number" ? "" : `[${i}]`} must be an integer in [0, ${size}], got ${describe(k)}`,
        );
      return k === 0 ? null : Array.from({ length: size }, (_, p) => p < k);
    });
  }
  if (opts.tintMask !== undefined) {
    const m = opts.tintMask;
    if (!isArrayLike(m) || m.length === 0)
      throw new Error(`${FN}: options.tintMask must be a mask of ${size} entries or one mask per image, got ${describe(m)}`);
    const perImage = isArrayLike(m[0]);
    const masks = perImage ? Array.from(m as ArrayLike<ArrayLike<unknown>>) : new Array(count).fill(m);
    if (masks.length !== count) throw new Error(`${FN}: options.tintMask must hold one mask per image (${count}), got ${masks.length}`);
    return masks.map((mask, i) => {
      const name = perImage ? `options.tintMask[${i}]` : "options.tintMask";
      if (!isArrayLike(mask) || mask.length !== size)
        throw new Error(`${FN}: ${name} must have one entry per pixel (${size}), got ${describe(mask)}`);
      return Array.from(mask, (v, p) => {
        if (typeof v !== "boolean" && typeof v !== "number")
          throw new Error(`${FN}: ${name}[${p}] must be a boolean or a number, got ${describe(v)}`);
        return Boolean(v);
      });
    });
  }
  return new Array(count).fill(null);
}

/**
 * A grid of grayscale images. Each image is a flat row-major array (square, or `options.shape`)
 * or a matrix of rows; values between `options.range` map from black to white.
 */
export function imageGrid(images: (Numbers | MatrixLike)[], options: ImageGridOptions = {}): Figure {
  const opts = checkOptions<ImageGridOptions>(FN, options, KEYS);
  const { pixels, h, w } = flatImages(images, opts.shape);
  const n = pixels.length;
  const columns = Math.min(checkOptionalPositiveInt(FN, "options.columns", opts.columns) ?? Math.min(n, 8), n);
  const gridRows = Math.ceil(n / columns);
  let titles: string[] | undefined;
  if (opts.titles !== undefined) {
    if (
      !isArrayLike(opts.titles) ||
      opts.titles.length !== n ||
      !Array.prototype.every.call(opts.titles, (t: unknown) => typeof t === "string")
    ) {
      throw new Error(`${FN}: options.titles must be one string per image (${n}), got ${describe(opts.titles)}`);
    }
    titles = Array.from(opts.titles);
  }
  const range = checkRange(FN, "options.range", opts.range) ?? finiteExtent(pixels) ?? [0, 1];
  if (range[0] === range[1]) range[1] = range[0] + 1; // a blank image: anything works, avoid a zero span
  const tintColor = opts.tintColor ?? "#ff7f0e";
  if (typeof tintColor !== "string" || !/^#[0-9a-fA-F]{6}$/.test(tintColor))
    throw new Error(`${FN}: options.tintColor must be a color "#rrggbb", got ${describe(tintColor)}`);
  const panelSize = checkPositiveNumber(FN, "options.panelSize", opts.panelSize) ?? 96;
  const masks = tintMasks(opts, n, h * w);

  // Mosaic geometry in pixel units: room above each row of panels for its titles.
  const titleRows = titles ? Math.max(4, Math.round(h * 0.3)) : 0;
  const cellH = h + titleRows + GAP;
  const cellW = w + GAP;
  const H = gridRows * cellH - GAP;
  const W = columns * cellW - GAP;
  const gray: (number | null)[][] = Array.from({ length: H }, () => new Array<number | null>(W).fill(null));
  const tinted: (number | null)[][] = Array.from({ length: H }, () => new Array<number | null>(W).fill(null));
  const annotations: Record<string, unknown>[] = [];
  pixels.forEach((flat, i) => {
    const top = Math.floor(i / columns) * cellH + titleRows;
    const left = (i % columns) * cellW;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const p = r * w + c;
        (masks[i]?.[p] ? tinted : gray)[top + r][left + c] = short(flat[p]);
      }
    }
    if (titles) {
      annotations.push({
        text: titles[i],
        x: left + (w - 1) / 2,
        y: top - 0.5 - titleRows / 2,
        xref: "x",
        yref: "y",
        showarrow: false,
        font: { size: 11 },
      });
    }
  });

  const { layout } = baseLayout(FN, opts, () => ({}));
  const margin = layout.margin as { l: number; r: number; t: number; b: number };
  Object.assign(margin, { l: 10, r: 10, b: 10 });
  const scale = panelSize / w; // screen pixels per image pixel
  if (opts.width === undefined) layout.width = Math.round(W * scale) + margin.l + margin.r;
  if (opts.height === undefined) layout.height = Math.round(H * scale) + margin.t + margin.b;
  layout.xaxis = { visible: false, range: [-0.5, W - 0.5], constrain: "domain" };
  layout.yaxis = { visible: false, range: [H - 0.5, -0.5], scaleanchor: "x", scaleratio: 1, constrain: "domain" };
  layout.annotations = annotations;
  layout.plot_bgcolor = "#ffffff";
  layout.showlegend = false;
  const base = {
    type: "heatmap",
    zmin: range[0],
    zmax: range[1],
    showscale: false,
    hoverongaps: false,
    hovertemplate: "%{z}<extra></extra>",
  };
  const data: Trace[] = [{ ...base, name: "image", z: gray, colorscale: GRAY }];
  if (masks.some((m) => m !== null)) {
    data.push({
      ...base,
      name: "tint",
      z: tinted,
      colorscale: [
        [0, shade(tintColor, -0.78)],
        [1, shade(tintColor, 0.35)],
      ],
    });
  }
  return { data, layout };
}
