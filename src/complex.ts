/**
 * Complex tensors as `{re, im}` pairs of real float32 tensors. tfjs registers no gradient for its
 * own complex kernels (Complex, Real, Imag, FFT...) and wasm has no complex kernels at all, so
 * every complex computation that must be differentiable is written in real arithmetic here.
 */
import * as tf from "@tensorflow/tfjs";
import { CVector } from "./linalg";

export type CTensor = {
  re: tf.Tensor;
  im: tf.Tensor;
};

export function complex(re: tf.Tensor | number[] | Float32Array, im?: tf.Tensor | number[] | Float32Array): CTensor {
  const r = re instanceof tf.Tensor ? re : tf.tensor(re);
  const i = im === undefined ? tf.zerosLike(r) : im instanceof tf.Tensor ? im : tf.tensor(im);
  if (r.shape.join() !== i.shape.join()) {
    throw new Error(`complex: re and im must have the same shape, got (${r.shape}) and (${i.shape})`);
  }
  return { re: r, im: i };
}

/** A float64 complex vector as a float32 complex tensor of shape (n). */
export function fromCVector(v: CVector): CTensor {
  return { re: tf.tensor1d(Float32Array.from(v.re)), im: tf.tensor1d(Float32Array.from(v.im)) };
}

export const add = (a: CTensor, b: CTensor): CTensor => ({ re: tf.add(a.re, b.re), im: tf.add(a.im, b.im) });
export const sub = (a: CTensor, b: CTensor): CTensor => ({ re: tf.sub(a.re, b.re), im: tf.sub(a.im, b.im) });
export const conj = (a: CTensor): CTensor => ({ re: a.re, im: tf.neg(a.im) });

export function mul(a: CTensor, b: CTensor): CTensor {
  return {
    re: tf.sub(tf.mul(a.re, b.re), tf.mul(a.im, b.im)),
    im: tf.add(tf.mul(a.re, b.im), tf.mul(a.im, b.re)),
  };
}

/** Multiplies by a real tensor or number. */
export function scaleBy(a: CTensor, s: tf.Tensor | number): CTensor {
  return { re: tf.mul(a.re, s), im: tf.mul(a.im, s) };
}

/** |a|². */
export const abs2 = (a: CTensor): tf.Tensor => tf.add(tf.square(a.re), tf.square(a.im));

/** 1 / a = ā / |a|². */
export function reciprocal(a: CTensor): CTensor {
  const d = abs2(a);
  return { re: tf.div(a.re, d), im: tf.div(tf.neg(a.im), d) };
}

export function div(a: CTensor, b: CTensor): CTensor {
  return mul(a, reciprocal(b));
}

/** e^a = e^re (cos im + i sin im). */
export function exp(a: CTensor): CTensor {
  const m = tf.exp(a.re);
  return { re: tf.mul(m, tf.cos(a.im)), im: tf.mul(m, tf.sin(a.im)) };
}

/** Principal logarithm: log|a| + i arg(a). */
export function log(a: CTensor): CTensor {
  return { re: tf.mul(0.5, tf.log(abs2(a))), im: tf.atan2(a.im, a.re) };
}

export function sum(a: CTensor, axis?: number | number[]): CTensor {
  return { re: tf.sum(a.re, axis), im: tf.sum(a.im, axis) };
}

export function expandDims(a: CTensor, axis: number): CTensor {
  return { re: tf.expandDims(a.re, axis), im: tf.expandDims(a.im, axis) };
}

/** Disposes both parts. */
export function dispose(a: CTensor): void {
  a.re.dispose();
  a.im.dispose();
}
