/**
 * The layout that every figure starts from: title, size, axis titles and margins, with each
 * option checked. Builders add their own axes settings on top.
 */
import { checkLang, checkPositiveNumber, checkString } from "./check";
import type { Lang } from "./labels";
import type { FigureOptions, Layout } from "./types";

export interface BaseLayout {
  lang: Lang;
  layout: Layout;
}

export interface LayoutDefaults {
  xTitle?: string;
  yTitle?: string;
  height?: number;
}

/**
 * Checks the shared options and builds the starting layout; `defaults(lang)` gives the axis titles
 * (in the figure's language) and height to use where the options give none.
 */
export function baseLayout(fn: string, options: FigureOptions, defaults: (lang: Lang) => LayoutDefaults = () => ({})): BaseLayout {
  const lang = checkLang(fn, options.lang);
  const fallback = defaults(lang);
  const title = checkString(fn, "options.title", options.title);
  const xTitle = checkString(fn, "options.xTitle", options.xTitle) ?? fallback.xTitle;
  const yTitle = checkString(fn, "options.yTitle", options.yTitle) ?? fallback.yTitle;
  const height = checkPositiveNumber(fn, "options.height", options.height) ?? fallback.height ?? 400;
  const width = checkPositiveNumber(fn, "options.width", options.width);
  const layout: Layout = {
    height,
    margin: { l: 60, r: 30, t: title ? 50 : 20, b: 50 },
    xaxis: { title: { text: xTitle ?? "" } },
    yaxis: { title: { text: yTitle ?? "" } },
  };
  if (title) layout.title = { text: title };
  if (width !== undefined) layout.width = width;
  return { lang, layout };
}

/** The axis object `name` ("xaxis", "yaxis") of a layout, to add settings to. */
export function axis(layout: Layout, name: string): Record<string, unknown> {
  const existing = layout[name];
  if (existing && typeof existing === "object") return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  layout[name] = created;
  return created;
}
