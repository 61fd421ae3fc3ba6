// Plot builders (src/viz): the traces and layout each builder makes, checked against values
// computed here independently; the errors for bad input; the HTML that show() writes (run in a
// sandbox with a stand-in Plotly to see what it would draw); plotly.js sent once per process.
// Runs in Node without a browser; test/browser.test.js checks the drawing in Chromium.
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");

const { viz } = lib;
const ROOT = path.resolve(__dirname, "..");
const PLOTLY_VERSION = JSON.parse(fs.readFileSync(require.resolve("plotly.js-dist/package.json"), "utf8")).version;

/**
 * A figure as these tests read it. The library types traces and layout as open Plotly records
 * (`Record<string, unknown>`), and the tests read attributes nested inside them
 * (`layout.xaxis.title.text`) that Plotly's JSON leaves untyped: so they are untyped here too.
 * @typedef {{ data: Record<string, any>[], layout: Record<string, any>, frames?: { name: string, data: Record<string, any>[] }[] }} PlotJSON
 */

/** A display that records what it is given, like tslab's display and newDisplay(). */
function recordingDisplay() {
  const outputs = [];
  return {
    outputs,
    html: (s) => outputs.push({ kind: "display", html: s }),
    newDisplay() {
      const slot = { kind: "updatable", html: null, updates: 0 };
      return {
        html(s) {
          if (slot.html === null) outputs.push(slot);
          else slot.updates++;
          slot.html = s;
        },
      };
    },
  };
}

const FIGURE_HTML =
  /^<div id="([A-Za-z][\w-]*)" class="s4-viz-figure" style="([^"<>]*)"><\/div>\n<script type="text\/javascript">\n([\s\S]*)\n<\/script>$/;

/**
 * Runs the script of figureHTML(...) in a sandbox with a stand-in document and Plotly; returns the
 * element and what Plotly.newPlot received. `plotly: false` starts without Plotly on the page.
 */
function runFigureHTML(html, { plotly = true } = {}) {
  const m = FIGURE_HTML.exec(html);
  assert.ok(m, `figure HTML is not one <div> and one <script>:\n${html.slice(0, 300)}`);
  const [, id, style, script] = m;
  assert.doesNotMatch(script, /<\/script|<!--/i, "script text must not contain </script or <!--");
  const element = { id, textContent: "" };
  const calls = [];
  const timers = [];
  let now = 1000;
  const sandbox = {
    document: { getElementById: (x) => (x === id ? element : null) },
    // The figure comes from the sandbox's realm: copy it into ours for deepEqual.
    window: plotly ? { Plotly: { newPlot: (el, fig) => calls.push({ el, fig: JSON.parse(JSON.stringify(fig)) }) } } : {},
    setTimeout: (f) => timers.push(f),
    Date: { now: () => now },
  };
  vm.runInNewContext(script, sandbox);
  return {
    id,
    style,
    element,
    calls,
    timers,
    sandbox,
    advance(ms) {
      now += ms;
    },
  };
}

/** JSON round trip: what a figure looks like after serialization (typed arrays to arrays, NaN to null). */
function plain(x) {
  return JSON.parse(
    JSON.stringify(x, (k, v) =>
      ArrayBuffer.isView(v) ? Array.from(/** @type {Float64Array} */ (v), (e) => (Number.isFinite(e) ? e : null)) : v,
    ),
  );
}

describe("viz: linePlot", function () {
  it("makes one scatter trace per named series with default x 0, 1, … and axis titles", function () {
    const y2 = new Float32Array([3, 2, NaN]);
    /** @type {PlotJSON} */
    const fig = viz.linePlot({ a: [1, 2, 3], b: y2 }, { title: "t" });
    assert.equal(fig.data.length, 2);
    assert.deepEqual(
      fig.data.map((t) => [t.type, t.mode, t.name]),
      [
        ["scatter", "lines", "a"],
        ["scatter", "lines", "b"],
      ],
    );
    assert.deepEqual(fig.data[0].x, [0, 1, 2]);
    assert.deepEqual(fig.data[0].y, [1, 2, 3]);
    assert.deepEqual(fig.data[1].y, [3, 2, null], "Float32Array becomes a plain array; NaN a gap (null)");
    assert.equal(fig.layout.title.text, "t");
    assert.equal(fig.layout.xaxis.title.text, "index");
    assert.equal(fig.layout.yaxis.title.text, "value");
    assert.equal(fig.layout.showlegend, true);
  });

  it("takes a shared x, per-series x, modes, log axes, and Chinese default labels", function () {
    /** @type {PlotJSON} */
    const fig = viz.linePlot(
      [
        { name: "k", y: [1, 10, 100] },
        { name: "m", y: [2, 20], x: [5, 6], mode: "markers" },
      ],
      { x: [0.5, 1, 1.5], logY: true, lang: "zh", xTitle: "t" },
    );
    assert.deepEqual(fig.data[0].x, [0.5, 1, 1.5]);
    assert.deepEqual(fig.data[1].x, [5, 6]);
    assert.equal(fig.data[1].mode, "markers");
    assert.equal(fig.layout.yaxis.type, "log");
    assert.equal(fig.layout.xaxis.title.text, "t", "an explicit title wins over the default");
    assert.equal(fig.layout.yaxis.title.text, "数值");
    const single = viz.linePlot([4, 5]);
    assert.equal(single.data.length, 1);
    assert.equal(single.layout.showlegend, false);
  });

  it("names the argument that is wrong", function () {
    assert.throws(() => viz.linePlot({ a: [1, 2, 3] }, { x: [1, 2] }), /linePlot: options.x must have 3 entries \(one per point\), got 2/);
    // @ts-expect-error -- deliberately wrong: a string among the numbers
    assert.throws(() => viz.linePlot({ a: [1, "2"] }), /linePlot: series\[0\] \("a"\)\.y\[1\] must be a number, got string "2"/);
    assert.throws(() => viz.linePlot({ a: [] }), /linePlot: series\[0\] \("a"\)\.y must hold at least 1 number, got 0/);
    assert.throws(() => viz.linePlot({}), /linePlot: series must hold at least one series/);
    // @ts-expect-error -- deliberately wrong: an unknown option
    assert.throws(() => viz.linePlot([1, 2], { colour: "red" }), /linePlot: unknown option "colour"; known options: title, lang/);
    // @ts-expect-error -- deliberately wrong: a language the plots do not have
    assert.throws(() => viz.linePlot([1, 2], { lang: "fr" }), /linePlot: options.lang must be one of "en", "zh", got string "fr"/);
    assert.throws(() => viz.linePlot([1, 2], { height: -5 }), /linePlot: options.height must be a finite number > 0, got number -5/);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: a mode Plotly does not have
      () => viz.linePlot([1, 2], { mode: "dots" }),
      /linePlot: options.mode must be one of "lines", "markers", "lines\+markers"/,
    );
    const tensor = tf.tensor1d([1, 2]);
    // @ts-expect-error -- deliberately wrong: a tensor, not read yet
    assert.throws(() => viz.linePlot(tensor), /a tensor of shape \[2\] \(read it first: await t.array\(\) or await t.data\(\)\)/);
    tensor.dispose();
  });
});

describe("viz: barPlot", function () {
  it("groups one bar trace per series over shared categories", function () {
    /** @type {PlotJSON} */
    const fig = viz.barPlot({ fast: [0.5, -1.2, 0.3], reference: new Float64Array([0.52, -1.18, 0.31]) }, { categories: ["Λ", "P", "B"] });
    assert.equal(fig.layout.barmode, "group");
    assert.deepEqual(
      fig.data.map((t) => [t.type, t.name]),
      [
        ["bar", "fast"],
        ["bar", "reference"],
      ],
    );
    assert.deepEqual(fig.data[0].x, ["Λ", "P", "B"]);
    assert.deepEqual(fig.data[1].y, [0.52, -1.18, 0.31]);
    assert.equal(fig.layout.xaxis.title.text, "category");
    /** @type {PlotJSON} */
    const numbered = viz.barPlot([1, 2, 3, 4], { horizontal: true, lang: "zh" });
    assert.deepEqual(numbered.data[0].y, [0, 1, 2, 3]);
    assert.deepEqual(numbered.data[0].x, [1, 2, 3, 4]);
    assert.equal(numbered.data[0].orientation, "h");
    assert.equal(numbered.layout.yaxis.type, "category");
    assert.equal(numbered.layout.xaxis.title.text, "数值");
  });

  it("rejects series of different lengths and categories of the wrong length", function () {
    assert.throws(
      () => viz.barPlot({ a: [1, 2], b: [1, 2, 3] }),
      /barPlot: every series must have one value per category: series\[0\] has 2, series\[1\] has 3/,
    );
    assert.throws(() => viz.barPlot({ a: [1, 2] }, { categories: ["x"] }), /barPlot: options.categories must have 2 entries/);
    // @ts-expect-error -- deliberately wrong: a line series (y) where a bar series (values) belongs
    assert.throws(() => viz.barPlot([{ name: "a", y: [1] }]), /barPlot: series\[0\] must be \{name\?, values\}/);
  });
});

describe("viz: heatmap", function () {
  it("draws the HiPPO-LegS matrix as written: row 0 on top, values from the formula", function () {
    const N = 6;
    /** @type {PlotJSON} */
    const fig = viz.heatmap(lib.makeHiPPO(N), { title: "A" });
    const z = fig.data[0].z;
    assert.equal(z.length, N);
    // LegS: A[n][k] = −√(2n+1)√(2k+1) below the diagonal, −(n+1) on it, 0 above; exact to 1e-12.
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < N; k++) {
        const expected = n > k ? -Math.sqrt(2 * n + 1) * Math.sqrt(2 * k + 1) : n === k ? -(n + 1) : 0;
        assert.ok(Math.abs(z[n][k] - expected) <= 1e-12, `A[${n}][${k}] = ${z[n][k]}, expected ${expected}`);
      }
    }
    assert.equal(fig.data[0].type, "heatmap");
    assert.equal(fig.layout.yaxis.autorange, "reversed");
    assert.equal(fig.data[0].colorscale, "Viridis", "one sign only: a sequential scale");
    assert.deepEqual([fig.layout.xaxis.title.text, fig.layout.yaxis.title.text], ["column", "row"]);
  });

  it("centres a diverging scale on zero when values have both signs; takes labels and a custom scale", function () {
    /** @type {PlotJSON} */
    const fig = viz.heatmap(
      [
        [1, -2],
        [3, 4],
      ],
      { x: ["a", "b"], y: [10, 20], colorbarTitle: "v" },
    );
    assert.deepEqual([fig.data[0].colorscale, fig.data[0].zmid, fig.data[0].reversescale], ["RdBu", 0, true]);
    assert.deepEqual(fig.data[0].x, ["a", "b"]);
    assert.equal(fig.data[0].colorbar.title.text, "v");
    /** @type {PlotJSON} */
    const custom = viz.heatmap([[0, 1]], {
      colorscale: [
        [0, "#000"],
        [1, "#fff"],
      ],
      matrixOrientation: false,
    });
    assert.deepEqual(custom.data[0].colorscale, [
      [0, "#000"],
      [1, "#fff"],
    ]);
    assert.equal(custom.layout.yaxis.autorange, undefined);
  });

  it("rejects ragged, empty and non-matrix input", function () {
    assert.throws(() => viz.heatmap([[1, 2], [3]]), /heatmap: z must be rectangular: row 0 has 2 entries, row 1 has 1/);
    assert.throws(() => viz.heatmap([]), /heatmap: z must be a non-empty matrix/);
    assert.throws(() => viz.heatmap([[1, 2]], { y: [1, 2] }), /heatmap: options.y must have 1 entries/);
    assert.throws(
      () =>
        viz.heatmap([[1]], {
          colorscale: [
            [0.2, "#000"],
            [1, "#fff"],
          ],
        }),
      /heatmap: options.colorscale must be a colorscale name/,
    );
  });
});

describe("viz: complexScatter", function () {
  it("plots re against im of a complex vector, with an optional unit circle and equal axes", function () {
    const { Lambda } = lib.makeDPLRHiPPO(8);
    /** @type {PlotJSON} */
    const fig = viz.complexScatter({ name: "Λ", ...Lambda }, { unitCircle: true });
    assert.deepEqual(fig.data[0].x, Array.from(Lambda.re));
    assert.deepEqual(fig.data[0].y, Array.from(Lambda.im));
    assert.equal(fig.data[0].mode, "markers");
    const circle = fig.data[1];
    assert.equal(circle.name, "unit circle");
    const worst = Math.max(...circle.x.map((x, i) => Math.abs(Math.hypot(x, circle.y[i]) - 1)));
    assert.ok(worst < 1e-12, `unit circle points off |z| = 1 by ${worst}`);
    assert.deepEqual([fig.layout.xaxis.title.text, fig.layout.yaxis.title.text], ["Re", "Im"]);
    assert.equal(fig.layout.yaxis.scaleanchor, "x");
    /** @type {PlotJSON} */
    const zh = viz.complexScatter([{ re: [1], im: [0] }], { lang: "zh", unitCircle: true, equalAxes: false });
    assert.deepEqual([zh.layout.xaxis.title.text, zh.layout.yaxis.title.text, zh.data[1].name], ["实部", "虚部", "单位圆"]);
    assert.equal(zh.layout.yaxis.scaleanchor, undefined);
  });

  it("rejects parts of different lengths and missing parts", function () {
    assert.throws(
      () => viz.complexScatter({ re: [1, 2], im: [1] }),
      /complexScatter: points.re and points.im must have the same length, got 2 and 1/,
    );
    // @ts-expect-error -- deliberately wrong: no imaginary part
    assert.throws(() => viz.complexScatter([{ re: [1] }]), /complexScatter: points\[0\] must be \{name\?, re, im\}/);
  });
});

describe("viz: surface", function () {
  it("puts z[i][j] over (x[j], y[i]) with titles on the 3-D scene's axes", function () {
    const a = [-2, -1, 0];
    const delta = [0.1, 0.5];
    const z = delta.map((d) => a.map((v) => Math.exp(d * v)));
    /** @type {PlotJSON} */
    const fig = viz.surface(z, { x: a, y: delta, xTitle: "a", yTitle: "Δ", zTitle: "exp(Δa)" });
    const t = fig.data[0];
    assert.equal(t.type, "surface");
    assert.deepEqual([t.x, t.y], [a, delta]);
    for (let i = 0; i < delta.length; i++) for (let j = 0; j < a.length; j++) assert.equal(t.z[i][j], Math.exp(delta[i] * a[j]));
    assert.deepEqual(
      [fig.layout.scene.xaxis.title.text, fig.layout.scene.yaxis.title.text, fig.layout.scene.zaxis.title.text],
      ["a", "Δ", "exp(Δa)"],
    );
    assert.equal(fig.layout.xaxis, undefined, "no 2-D axes in a 3-D figure");
  });

  it("rejects a grid too small to span a surface and coordinates of the wrong length", function () {
    assert.throws(() => viz.surface([[1, 2, 3]]), /surface: z must have at least 2 rows and 2 columns to span a surface, got 1 × 3/);
    assert.throws(
      () =>
        viz.surface(
          [
            [1, 2],
            [3, 4],
          ],
          { x: [1, 2, 3] },
        ),
      /surface: options.x must have 2 entries/,
    );
  });
});

describe("viz: imageGrid", function () {
  const h = 5,
    w = 4;
  // Distinct random images, so each can be found in the mosaic at exactly one place.
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const images = Array.from({ length: 5 }, () => Array.from({ length: h * w }, rand));

  /** Where image `img` (flat, h × w) sits in the mosaic given as the union of the traces' z. */
  function findPanels(mosaic) {
    const H = mosaic.length,
      W = mosaic[0].length;
    return images.map((img, i) => {
      const hits = [];
      for (let top = 0; top + h <= H; top++) {
        for (let left = 0; left + w <= W; left++) {
          let same = true;
          for (let p = 0; p < h * w && same; p++) same = mosaic[top + Math.floor(p / w)][left + (p % w)] === Number(img[p].toPrecision(5));
          if (same) hits.push({ top, left });
        }
      }
      assert.equal(hits.length, 1, `image ${i} found ${hits.length} times in the mosaic`);
      return hits[0];
    });
  }

  function union(fig) {
    const [gray, tint] = fig.data.map((t) => t.z);
    return gray.map((row, r) => row.map((v, c) => (v !== null ? v : tint ? tint[r][c] : null)));
  }

  it("lays images out row by row with a title centred above each, gaps empty", function () {
    const titles = ["a", "b", "c", "d", "e"];
    /** @type {PlotJSON} */
    const fig = viz.imageGrid(images, { shape: [h, w], columns: 3, titles, title: "digits" });
    assert.equal(fig.data.length, 1, "no tint: one gray layer");
    const mosaic = union(fig);
    const panels = findPanels(mosaic);
    // Row-major order: the first three on one row left to right, the other two below.
    assert.deepEqual(
      panels.map((p) => p.top === panels[0].top),
      [true, true, true, false, false],
    );
    assert.ok(panels[0].left < panels[1].left && panels[1].left < panels[2].left && panels[3].top > panels[0].top);
    const filled = mosaic.flat().filter((v) => v !== null).length;
    assert.equal(filled, images.length * h * w, "every other cell is a gap");
    fig.layout.annotations.forEach((a, i) => {
      assert.equal(a.text, titles[i]);
      assert.equal(a.x, panels[i].left + (w - 1) / 2, "centred over its panel");
      assert.ok(
        a.y < panels[i].top - 0.5 && a.y > panels[i].top - 0.5 - (panels[3].top - panels[0].top - h),
        "above its panel, below the panel over it",
      );
    });
    assert.equal(fig.layout.yaxis.scaleanchor, "x", "square pixels");
    assert.deepEqual([fig.data[0].zmin, fig.data[0].zmax], [Math.min(...images.flat()), Math.max(...images.flat())]);
  });

  it("tints the first k pixels of each image, or the pixels of a mask, in a second layer", function () {
    const k = [0, 3, 7, 20, 11];
    const fig = viz.imageGrid(images, { shape: [h, w], tintPrefix: k, range: [0, 1], tintColor: "#00ff00" });
    assert.equal(fig.data.length, 2);
    assert.deepEqual([fig.data[1].zmin, fig.data[1].zmax], [0, 1]);
    const panels = findPanels(union(fig));
    const [gray, tint] = fig.data.map((t) => t.z);
    panels.forEach(({ top, left }, i) => {
      for (let p = 0; p < h * w; p++) {
        const r = top + Math.floor(p / w),
          c = left + (p % w);
        assert.equal(tint[r][c] !== null, p < k[i], `image ${i} pixel ${p}: tinted iff p < ${k[i]}`);
        assert.equal(gray[r][c] !== null, p >= k[i]);
      }
    });
    const mask = Array.from({ length: h * w }, (_, p) => p % 2 === 0);
    /** @type {PlotJSON} */
    const masked = viz.imageGrid(images.slice(0, 1), { shape: [h, w], tintMask: mask });
    assert.equal(masked.data[1].z.flat().filter((v) => v !== null).length, (h * w) / 2);
  });

  it("accepts matrices and square flat images (28 × 28 inferred from 784 pixels)", function () {
    const digit = Array.from({ length: 784 }, (_, p) => p % 255);
    /** @type {PlotJSON} */
    const fig = viz.imageGrid([digit, new Float32Array(digit)]);
    assert.equal(fig.data[0].z.flat().filter((v) => v !== null).length, 2 * 784);
    const rows = [
      [0, 1],
      [2, 3],
    ];
    assert.equal(/** @type {PlotJSON} */ (viz.imageGrid([rows])).data[0].z.length, 2);
  });

  it("names what is wrong with the images and options", function () {
    assert.throws(() => viz.imageGrid([[1, 2, 3]]), /imageGrid: images\[0\] has 3 pixels, not a square number; give options.shape/);
    assert.throws(
      () =>
        viz.imageGrid([
          [1, 2, 3, 4],
          [1, 2, 3, 4, 5, 6, 7, 8, 9],
        ]),
      /imageGrid: all images must have one shape: images\[0\] is 2 × 2, images\[1\] is 3 × 3/,
    );
    assert.throws(
      () => viz.imageGrid([[1, 2, 3, 4]], { tintPrefix: 5 }),
      /imageGrid: options.tintPrefix must be an integer in \[0, 4\], got number 5/,
    );
    assert.throws(
      () => viz.imageGrid([[1, 2, 3, 4]], { titles: ["a", "b"] }),
      /imageGrid: options.titles must be one string per image \(1\)/,
    );
    assert.throws(
      () => viz.imageGrid([[1, 2, 3, 4]], { tintPrefix: 1, tintMask: [1, 0, 0, 0] }),
      /give options.tintPrefix or options.tintMask, not both/,
    );
    assert.throws(() => viz.imageGrid([[1, 2, 3, 4]], { tintColor: "green" }), /imageGrid: options.tintColor must be a color "#rrggbb"/);
    assert.throws(() => viz.imageGrid([]), /imageGrid: images must be a non-empty array of images/);
  });
});

describe("viz: animation", function () {
  const L = 12;
  const positions = Array.from({ length: L }, (_, k) => Math.sin(k / 2));
  const frames = positions.map((p) => [
    { type: "scatter", mode: "lines", x: [-1.5, p], y: [0, 0] },
    { type: "scatter", mode: "markers", x: [p], y: [0] },
  ]);

  it("starts on frame 0, has one named frame and one slider step per frame, and a play button", function () {
    /** @type {PlotJSON} */
    const fig = viz.animation(frames, { frameDuration: 40, title: "spring" });
    assert.deepEqual(plain(fig.data), plain(frames[0]));
    assert.equal(fig.frames.length, L);
    fig.frames.forEach((f, k) => {
      assert.equal(f.name, String(k));
      assert.deepEqual(f.data, frames[k]);
    });
    const steps = fig.layout.sliders[0].steps;
    assert.deepEqual(
      steps.map((s) => s.args[0][0]),
      fig.frames.map((f) => f.name),
    );
    const [play, pause] = fig.layout.updatemenus[0].buttons;
    assert.deepEqual([play.label, play.method, play.args[0], play.args[1].frame.duration], ["Play", "animate", null, 40]);
    assert.equal(pause.label, "Pause");
    assert.equal(play.args[1].frame.redraw, false, "scatter frames move without a full redraw");
  });

  it("fixes the axes to cover every frame", function () {
    /** @type {PlotJSON} */
    const fig = viz.animation(frames);
    const [x0, x1] = fig.layout.xaxis.range;
    const xs = [-1.5, ...positions];
    assert.ok(x0 <= Math.min(...xs) && x1 >= Math.max(...xs), `x range [${x0}, ${x1}] must hold [${Math.min(...xs)}, ${Math.max(...xs)}]`);
    assert.equal(fig.layout.xaxis.autorange, false);
    /** @type {PlotJSON} */
    const given = viz.animation(frames, { xRange: [-2, 2], yRange: [-1, 1], frameNames: positions.map((_, k) => `t${k}`), lang: "zh" });
    assert.deepEqual(
      [given.layout.xaxis.range, given.layout.yaxis.range],
      [
        [-2, 2],
        [-1, 1],
      ],
    );
    assert.equal(given.frames[3].name, "t3");
    assert.equal(given.layout.updatemenus[0].buttons[0].label, "播放");
  });

  it("redraws fully for non-scatter traces and rejects inconsistent frames", function () {
    /** @type {PlotJSON} */
    const heat = viz.animation([[{ type: "heatmap", z: [[1]] }], [{ type: "heatmap", z: [[2]] }]]);
    assert.equal(heat.layout.updatemenus[0].buttons[0].args[1].frame.redraw, true);
    assert.throws(
      () => viz.animation([[{ x: [1] }], [{ x: [1] }, { x: [2] }]]),
      /animation: every frame must have the same number of traces: frames\[0\] has 1, frames\[1\] has 2/,
    );
    assert.throws(() => viz.animation([]), /animation: frames must be a non-empty array of frames/);
    assert.throws(() => viz.animation([[{ x: [1] }], [{ x: [1] }]], { frameNames: ["a", "a"] }), /options.frameNames must be distinct/);
    // @ts-expect-error -- deliberately wrong: a number where a trace belongs
    assert.throws(() => viz.animation([[1]]), /animation: frames\[0\]\[0\] must be a trace object/);
  });
});

describe("viz: figure HTML", function () {
  it("is one <div> and one <script> that draws exactly the figure, even with markup in its strings", function () {
    const tricky = "</script><script>alert(1)</script> <!-- & \u2028";
    const fig = viz.linePlot({ [tricky]: new Float32Array([1, NaN, 3]) }, { title: tricky });
    const html = viz.figureHTML(fig);
    const run = runFigureHTML(html);
    assert.equal(run.calls.length, 1, "drawn at once when Plotly and the element are there");
    assert.equal(run.calls[0].el, run.element);
    const { config, ...drawn } = run.calls[0].fig;
    assert.deepEqual(plain(drawn), plain({ ...fig, frames: [] }));
    assert.equal(drawn.layout.title.text, tricky);
    assert.deepEqual(config, { responsive: true, displaylogo: false });
    assert.match(run.style, /height:400px/);
  });

  it("waits for plotly.js and for its element, then draws; notes in the <div> that plotly.js is missing", function () {
    const html = viz.figureHTML(viz.barPlot([1, 2]));
    const run = runFigureHTML(html, { plotly: false });
    assert.equal(run.calls.length, 0);
    assert.equal(run.timers.length, 1, "polls again later");
    run.sandbox.window.Plotly = { newPlot: (el, fig) => run.calls.push({ el, fig }) };
    run.timers.shift()();
    assert.equal(run.calls.length, 1, "drawn once plotly.js arrived");

    const late = runFigureHTML(viz.figureHTML(viz.barPlot([1])), { plotly: false });
    late.advance(21_000);
    late.timers.shift()();
    assert.match(late.element.textContent, /plotly.js is not loaded on this page/, "a note after 20 s");
    assert.equal(late.timers.length, 1, "and it keeps waiting");
    late.sandbox.window.Plotly = { newPlot: (el, fig) => late.calls.push({ el, fig }) };
    late.timers.shift()();
    assert.equal(late.calls.length, 1, "drawn when plotly.js arrives late");
    assert.equal(late.element.textContent, "", "the note is cleared");

    const never = runFigureHTML(viz.figureHTML(viz.barPlot([1])), { plotly: false });
    never.advance(601_000);
    never.timers.shift()();
    assert.equal(never.timers.length, 0, "stops waiting after 10 minutes");
  });

  it("gives each figure a fresh element id, and rejects what is not a figure", function () {
    const ids = new Set([1, 2, 3].map(() => FIGURE_HTML.exec(viz.figureHTML(viz.linePlot([1])))[1]));
    assert.equal(ids.size, 3);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: data is not an array of traces
      () => viz.figureHTML({ data: "x", layout: {} }),
      /figureHTML: fig must be a figure \{data: traces\[\], layout, frames\?\}/,
    );
    assert.throws(() => viz.figureHTML(viz.linePlot([1]), { id: "1 bad" }), /figureHTML: options.id must be letters/);
    assert.throws(
      // @ts-expect-error -- deliberately wrong: a display without newDisplay()
      () => viz.show({ data: [], layout: {} }, { display: { html() {} } }),
      /show: options.display must have html\(s\) and newDisplay\(\) methods/,
    );
  });

  it("puts the local plotly.js bundle in one script that compiles and cannot be cut short", function () {
    this.timeout(30000);
    const html = viz.plotlyBundleHTML();
    const m = /^<script type="text\/javascript" data-s4-viz-plotly="([^"]+)">\n([\s\S]*)\n<\/script>$/.exec(html);
    assert.ok(m, "one <script> element");
    assert.equal(m[1], PLOTLY_VERSION);
    const body = m[2];
    assert.doesNotMatch(body, /<\/script/i);
    const source = fs.readFileSync(require.resolve("plotly.js-dist/plotly.js"), "utf8");
    assert.ok(body.includes(source.slice(0, 2000)) && body.includes(source.slice(-2000)), "the installed bundle, inlined");
    assert.doesNotThrow(() => new vm.Script(body, { filename: "bundle.js" }), "the script compiles");
    assert.match(
      body,
      /^if \(!\(window\.Plotly && window\.Plotly\.version === "[^"]+"\)\) \{\n\(function \(module, exports, define\) \{/,
      "runs only when missing, with module/exports/define hidden",
    );
  });

  it("writes a standalone page with the bundle once and every figure", function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "viz-"));
    try {
      const file = path.join(dir, "sub", "page.html");
      viz.saveHTML(file, [viz.linePlot([1, 2]), viz.heatmap([[1]])], { title: "a <b>" });
      const page = fs.readFileSync(file, "utf8");
      assert.equal(page.split("data-s4-viz-plotly=").length - 1, 1);
      assert.equal(page.split('class="s4-viz-figure"').length - 1, 2);
      assert.match(page, /<title>a &lt;b&gt;<\/title>/);
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ["page.html"], "no temporary file left");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => viz.pageHTML([]), /pageHTML: figures must hold at least one figure/);
  });
});

describe("viz: show and liveChart", function () {
  // The bundle flag is per process: each case runs in a fresh Node process (loading only the viz
  // module, which depends on nothing else in the library).
  function inFreshProcess(body) {
    const script = `
      const viz = require(${JSON.stringify(path.join(ROOT, "dist", "viz"))});
      const outputs = [];
      const display = {
        html: (s) => outputs.push({ kind: "display", html: s }),
        newDisplay() { const slot = { kind: "updatable", html: null, updates: 0 }; return { html(s) { if (slot.html === null) outputs.push(slot); else slot.updates++; slot.html = s; } }; },
      };
      const report = (extra) => process.stdout.write(JSON.stringify({
        outputs: outputs.map((o) => ({ kind: o.kind, bundle: o.html.includes("data-s4-viz-plotly="), figure: o.html.includes('class="s4-viz-figure"'), updates: o.updates ?? 0 })),
        ...extra,
      }));
      (async () => { ${body} })().catch((e) => { process.stdout.write(JSON.stringify({ error: e.message })); });
    `;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
  }

  it("sends plotly.js once per process, in its own output before the first figure", function () {
    this.timeout(30000);
    const r = inFreshProcess(`
      viz.setDisplay(display);
      viz.show(viz.linePlot([1, 2]));
      viz.show(viz.heatmap([[1]]));
      const chart = viz.liveChart({ series: ["loss"] });
      viz.show(viz.barPlot([3]));
      report();
    `);
    assert.deepEqual(
      r.outputs.map((o) => [o.kind, o.bundle, o.figure]),
      [
        ["display", true, false],
        ["display", false, true],
        ["display", false, true],
        ["updatable", false, true],
        ["display", false, true],
      ],
    );
  });

  it("does not send plotly.js again after loadPlotly(), which always sends it", function () {
    this.timeout(30000);
    const r = inFreshProcess(`
      viz.loadPlotly({ display });
      viz.show(viz.linePlot([1]), { display });
      viz.loadPlotly({ display });
      report();
    `);
    assert.deepEqual(
      r.outputs.map((o) => o.bundle),
      [true, false, true],
    );
  });

  it("explains that show() needs a notebook when no kernel is running, and sends nothing", function () {
    this.timeout(60000);
    const r = inFreshProcess(`
      try { viz.show(viz.linePlot([1])); } catch (e) { report({ message: e.message }); return; }
      report({ message: "no error" });
    `);
    assert.match(r.message, /^show: no notebook to display in \(tslab's display works only inside a running tslab kernel\)/);
    assert.deepEqual(r.outputs, []);
  });

  it("liveChart redraws its one output in place, throttled, and done() draws what is pending", function () {
    const d = recordingDisplay();
    const chart = viz.liveChart({ series: ["loss", "accuracy"], minIntervalMs: 1e9, display: d, title: "training" });
    const slot = d.outputs.find((o) => o.kind === "updatable");
    assert.ok(slot, "the chart is displayed at once");
    const before = slot.updates;
    for (let step = 0; step < 10; step++) {
      chart.push(step, { loss: 1 / (step + 1) });
      if (step % 5 === 4) chart.push(step, { accuracy: step / 10 });
    }
    assert.equal(slot.updates, before, "no redraw inside the throttle interval");
    chart.done();
    assert.equal(slot.updates, before + 1);
    chart.done();
    assert.equal(slot.updates, before + 1, "nothing pending: no redraw");
    const drawn = runFigureHTML(slot.html).calls[0].fig;
    assert.deepEqual(drawn.data[0].x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(
      drawn.data[0].y,
      Array.from({ length: 10 }, (_, s) => 1 / (s + 1)),
    );
    assert.deepEqual(
      [drawn.data[1].x, drawn.data[1].y],
      [
        [4, 9],
        [0.4, 0.9],
      ],
    );
    assert.equal(drawn.layout.title.text, "training");
    assert.equal(drawn.layout.xaxis.title.text, "step");
    assert.equal(d.outputs.filter((o) => o.kind === "updatable").length, 1, "one output, updated");
    assert.deepEqual(plain(chart.figure().data[1].y), [0.4, 0.9]);
  });

  it("liveChart redraws on every push with minIntervalMs 0 and thins long curves to maxPoints", function () {
    const d = recordingDisplay();
    const chart = viz.liveChart({ series: ["loss"], minIntervalMs: 0, maxPoints: 11, display: d });
    const slot = d.outputs.find((o) => o.kind === "updatable");
    for (let s = 0; s <= 100; s++) chart.push(s, s * 2);
    assert.equal(slot.updates, 101);
    const drawn = runFigureHTML(slot.html).calls[0].fig.data[0];
    assert.deepEqual(drawn.x, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], "evenly spread, last point kept");
    assert.deepEqual(
      drawn.y,
      drawn.x.map((s) => 2 * s),
    );
    assert.equal(/** @type {PlotJSON} */ (chart.figure()).data[0].x.length, 101, "the figure keeps every point");
  });

  it("liveChart names bad series and values", function () {
    const d = recordingDisplay();
    // @ts-expect-error -- deliberately wrong: no series
    assert.throws(() => viz.liveChart({ display: d }), /liveChart: options.series must be a non-empty array of curve names, got undefined/);
    assert.throws(() => viz.liveChart({ series: ["a", "a"], display: d }), /liveChart: options.series must not repeat a name/);
    const chart = viz.liveChart({ series: ["a", "b"], display: d });
    assert.throws(() => chart.push(0, { c: 1 }), /liveChart: push: unknown series "c"; the chart has "a", "b"/);
    // @ts-expect-error -- deliberately wrong: a string value
    assert.throws(() => chart.push(0, { a: "1" }), /liveChart: push: values\["a"\] must be a number, got string "1"/);
    assert.throws(() => chart.push(NaN, { a: 1 }), /liveChart: push: x must be a finite number, got number NaN/);
    assert.throws(() => chart.push(0, 1), /liveChart: push: values must be \{name: value\} for a chart of 2 curves/);
  });
});
