/**
 * Plots for notebooks: figure builders that return plain Plotly figures `{data, layout, frames?}`,
 * `show` to display one through the tslab kernel, a live chart for training, and standalone HTML.
 * plotly.js comes from the installed plotly.js-dist package: no internet needed, in the notebook
 * or in its HTML export.
 */
export type { Figure, FigureOptions, Frame, Layout, MatrixLike, Numbers, Trace } from "./types";
export type { Lang } from "./labels";
export * from "./line-plot";
export * from "./bar-plot";
export * from "./heatmap";
export * from "./complex-scatter";
export * from "./surface";
export * from "./image-grid";
export * from "./animation";
export * from "./spring-animation";
export * from "./live-chart";
export { BUNDLE_MARKER, FIGURE_CLASS, figureHTML, figureJSON, pageHTML, plotlyBundleHTML, saveHTML, type FigureHTMLOptions } from "./html";
export { loadPlotly, setDisplay, show, type DisplayTarget, type HtmlDisplay, type ShowOptions } from "./show";
export { queueSends, queueKernelSends } from "./kernel-send-queue";
/** Digit grids as PNG files (the sampling CLI's output). */
export { digitGrid, encodePng, writePngAtomic, type DigitRow } from "./png";
