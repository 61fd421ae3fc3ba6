// springAnimation (src/viz/spring-animation.ts): the frames it builds from a motion, checked
// against the motion itself; fixed axes; the language of its labels; errors for bad input.
const assert = require("node:assert/strict");
const lib = require("../dist");

const { viz } = lib;

/**
 * A figure as these tests read it. The library types traces and layout as open Plotly records
 * (`Record<string, unknown>`), and the tests read attributes nested inside them
 * (`layout.xaxis.title.text`) that Plotly's JSON leaves untyped: so they are untyped here too.
 * @typedef {{ data: Record<string, any>[], layout: Record<string, any>, frames?: { name: string, data: Record<string, any>[] }[] }} PlotJSON
 */

/** A small motion: 9 samples of a made-up force and position. */
function motion() {
  const t = Array.from({ length: 9 }, (_, k) => k / 8);
  const u = t.map((s) => (s > 0.2 && s < 0.5 ? 1 : 0));
  const y = t.map((s) => 0.01 * Math.sin(3 * s));
  return { t, u, y };
}

describe("viz: springAnimation", function () {
  it("draws force, position, spring and mass per frame, up to the frame's time", function () {
    const m = motion();
    /** @type {PlotJSON} */
    const fig = viz.springAnimation(m, { frameStep: 2, title: "spring" });
    assert.equal(fig.frames.length, 5); // samples 1, 3, 5, 7, 9
    const names = ["t = 0.00 s", "t = 0.25 s", "t = 0.50 s", "t = 0.75 s", "t = 1.00 s"];
    assert.deepEqual(
      fig.frames.map((f) => f.name),
      names,
    );
    const last = fig.frames[4].data;
    assert.equal(last.length, 4);
    assert.deepEqual(last[0].x, m.t);
    assert.deepEqual(last[0].y, m.u);
    assert.equal(last[1].yaxis, "y2");
    last[1].y.forEach((v, k) => assert.ok(Math.abs(v - m.y[k]) <= 1e-5 * Math.abs(m.y[k]), `position ${k}`));
    const third = fig.frames[2].data; // after 5 samples
    assert.equal(third[0].x.length, 5);
    const box = third[3].x[0];
    assert.ok(Math.abs(box - m.y[4]) <= 1e-5 * Math.abs(m.y[4]), "the mass sits at the frame's last position");
    // The spring runs from the wall to the box, ending left of the mass.
    const coil = third[2].x;
    const wall = fig.layout.shapes[0].x0;
    assert.ok(Math.abs(coil[0] - wall) < 1e-12, "the spring starts at the wall");
    assert.ok(coil[coil.length - 1] < m.y[4], "the spring ends left of the mass");
    assert.equal(fig.layout.title.text, "spring");
    assert.deepEqual(
      fig.data.map((tr) => tr.x.length),
      fig.frames[0].data.map((tr) => tr.x.length),
    );
  });

  it("fixes every axis range over the frames, the position axis at 1.2 × the largest |y|", function () {
    const m = motion();
    /** @type {PlotJSON} */
    const fig = viz.springAnimation(m);
    const yTop = 1.2 * Math.max(...m.y.map(Math.abs));
    assert.ok(Math.abs(fig.layout.yaxis2.range[1] - yTop) < 1e-15);
    assert.deepEqual(fig.layout.xaxis.range, [0, 1]);
    assert.deepEqual(fig.layout.xaxis2.range, [0, 1]);
    assert.ok(fig.layout.xaxis3.range[0] < fig.layout.shapes[0].x0, "the wall is inside the mass panel");
    assert.ok(fig.layout.yaxis.range[0] < 0 && fig.layout.yaxis.range[1] > 1, "the force axis holds 0 and 1");
    assert.equal(fig.frames.length, 5);
  });

  it('labels in Chinese with lang: "zh", and takes the time and force axis titles', function () {
    /** @type {PlotJSON} */
    const fig = viz.springAnimation(motion(), { lang: "zh", frameStep: 4 });
    assert.equal(fig.layout.xaxis2.title.text, "时间 t（秒）");
    assert.equal(fig.layout.yaxis.title.text, "外力 u");
    assert.equal(fig.frames[1].name, "t = 0.50 秒");
    assert.equal(fig.layout.updatemenus[0].buttons[0].label, "播放");
    /** @type {PlotJSON} */
    const titled = viz.springAnimation(motion(), { xTitle: "time", yTitle: "push" });
    assert.equal(titled.layout.xaxis2.title.text, "time");
    assert.equal(titled.layout.yaxis.title.text, "push");
  });

  it("names frames apart when samples are closer than 0.01", function () {
    const t = Array.from({ length: 5 }, (_, k) => k / 1000);
    const fig = viz.springAnimation({ t, u: [0, 1, 1, 0, 0], y: [0, 1, 2, 1, 0] }, { frameStep: 1 });
    assert.equal(new Set(fig.frames.map((f) => f.name)).size, 5);
    assert.equal(fig.frames[1].name, "t = 0.001 s");
  });

  it("names the argument that is wrong", function () {
    const m = motion();
    assert.throws(() => viz.springAnimation(null), /springAnimation: motion must be \{t, u, y\}/);
    assert.throws(
      () => viz.springAnimation({ ...m, y: m.y.slice(1) }),
      /springAnimation: motion.t, motion.u and motion.y must have the same length, got 9, 9 and 8/,
    );
    assert.throws(() => viz.springAnimation({ ...m, u: [1] }), /springAnimation: motion.u must hold at least 2 numbers, got 1/);
    assert.throws(() => viz.springAnimation(m, { frameStep: 0 }), /springAnimation: options.frameStep must be a positive integer/);
    // @ts-expect-error -- deliberately wrong: a language the plots do not have
    assert.throws(() => viz.springAnimation(m, { lang: "fr" }), /springAnimation: options.lang must be one of "en", "zh"/);
    // @ts-expect-error -- deliberately wrong: an unknown option
    assert.throws(() => viz.springAnimation(m, { speed: 2 }), /springAnimation: unknown option "speed"/);
  });
});
