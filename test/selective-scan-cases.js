// Inputs, variants and losses shared by the selective-scan tests (the fused kernels and the
// chunked reference).
const { randn, tf } = require("./helpers");

const INPUTS = ["u", "delta", "A", "B", "C", "D", "z", "deltaBias"];

/** @typedef {{ b: number, d: number, n: number, l: number }} Sizes */
/** @typedef {{ D: boolean, z: boolean, bias: boolean, softplus: boolean }} Variant which optional inputs a case uses */

/**
 * Random inputs of the given sizes; A < 0 as in Mamba (A = −exp(A_log)).
 * @param {Sizes} sizes
 */
function makeInputs({ b, d, n, l }, seed = 1) {
  return {
    u: tf.tensor3d(randn(b * d * l, seed), [b, d, l]),
    delta: tf.tensor3d(randn(b * d * l, seed + 1), [b, d, l]),
    A: tf.tidy(() => tf.neg(tf.exp(tf.tensor2d(randn(d * n, seed + 2), [d, n])))),
    B: tf.tensor3d(randn(b * n * l, seed + 3), [b, n, l]),
    C: tf.tensor3d(randn(b * n * l, seed + 4), [b, n, l]),
    D: tf.tensor1d(randn(d, seed + 5)),
    z: tf.tensor3d(randn(b * d * l, seed + 6), [b, d, l]),
    deltaBias: tf.tensor1d(randn(d, seed + 7)),
  };
}

/** The options of a variant: which of D, z, deltaBias are given, and softplus; `extra` adds more. */
function optsOf(x, v, extra = {}) {
  return {
    D: v.D ? x.D : undefined,
    z: v.z ? x.z : undefined,
    deltaBias: v.bias ? x.deltaBias : undefined,
    deltaSoftplus: v.softplus,
    ...extra,
  };
}
const ALL = { D: true, z: true, bias: true, softplus: true };
const NONE = { D: false, z: false, bias: false, softplus: false };
const label = (v) =>
  Object.entries(v)
    .filter(([, on]) => on)
    .map(([k]) => k)
    .join("+") || "plain";

/** The inputs a variant differentiates: the five required ones plus the options it uses. */
const diffInputs = (v) => INPUTS.filter((k) => !(k === "D" && !v.D) && !(k === "z" && !v.z) && !(k === "deltaBias" && !v.bias));

/** loss = Σ w·y + Σ wl·lastState through `scan` (with `extra` options) as a function of the listed inputs. */
function lossFn(scan, x, v, names, w, wl, extra = {}) {
  return (...vals) => {
    const cur = { ...x };
    names.forEach((k, i) => (cur[k] = vals[i]));
    const r = scan(cur.u, cur.delta, cur.A, cur.B, cur.C, optsOf(cur, v, extra));
    return tf.add(tf.sum(tf.mul(r.y, w)), tf.sum(tf.mul(r.lastState, wl)));
  };
}

/**
 * The loss weights w (b, d, l) and wl (b, d, n).
 * @param {Sizes} sizes
 * @param {number} seed
 */
function weights({ b, d, n, l }, seed) {
  return { w: tf.tensor3d(randn(b * d * l, seed), [b, d, l]), wl: tf.tensor3d(randn(b * d * n, seed + 1), [b, d, n]) };
}

module.exports = { INPUTS, makeInputs, optsOf, ALL, NONE, label, diffInputs, lossFn, weights };
