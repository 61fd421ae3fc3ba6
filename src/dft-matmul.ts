/**
 * The discrete Fourier transform as matrix products: plain tf ops, so it runs and differentiates
 * (by autodiff) on every backend. `causalConv` and `irdft` fall back to these where their kernels
 * are not registered (e.g. tfjs-node, whose native matmuls make them fast). O(L²) work, but as
 * matmuls. They are also an independent reference the kernels are tested against.
 */
import * as tf from "@tensorflow/tfjs";

const hostCache = new Map<string, Float32Array>();

/** A (rows, cols) matrix of f(i, j), computed in float64, cached on the host as float32. */
function table(key: string, rows: number, cols: number, f: (i: number, j: number) => number): tf.Tensor2D {
  let data = hostCache.get(key);
  if (!data) {
    data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j);
    hostCache.set(key, data);
  }
  return tf.tensor2d(data, [rows, cols]);
}

/** Angle 2π·(i·j mod m)/m, reduced first so large products stay exact. */
const angle = (i: number, j: number, m: number) => (2 * Math.PI * ((i * j) % m)) / m;

/**
 * Causal convolution by a zero-padded real DFT of length M = 2L written as matmuls:
 * U = u·F, K = k·F (F: (L, L+1) complex), Y = U ⊙ K, y = Re(IDFT(Y))[:L].
 * u: (..., h, l), k: (h, l) → (..., h, l).
 */
export function matmulCausalConv(u: tf.Tensor, k: tf.Tensor): tf.Tensor {
  const L = u.shape[u.rank - 1];
  const M = 2 * L;
  const F = L + 1; // bins 0 … M/2 of a real signal
  return tf.tidy(() => {
    const cos = table(`fc${L}`, L, F, (t, f) => Math.cos(angle(t, f, M)));
    const sin = table(`fs${L}`, L, F, (t, f) => -Math.sin(angle(t, f, M)));
    // Inverse: bins 1 … M/2 − 1 stand for their conjugate twins too (weight 2).
    const w = (f: number) => (f === 0 || f === L ? 1 : 2) / M;
    const icos = table(`ic${L}`, F, L, (f, t) => w(f) * Math.cos(angle(f, t, M)));
    const isin = table(`is${L}`, F, L, (f, t) => -w(f) * Math.sin(angle(f, t, M)));
    const rowsU = tf.reshape(u, [-1, L]);
    const rowsK = tf.reshape(k, [-1, L]);
    const Ur = tf.reshape(tf.matMul(rowsU, cos), [...u.shape.slice(0, -1), F]);
    const Ui = tf.reshape(tf.matMul(rowsU, sin), [...u.shape.slice(0, -1), F]);
    const Kr = tf.reshape(tf.matMul(rowsK, cos), [...k.shape.slice(0, -1), F]);
    const Ki = tf.reshape(tf.matMul(rowsK, sin), [...k.shape.slice(0, -1), F]);
    const Yr = tf.reshape(tf.sub(tf.mul(Ur, Kr), tf.mul(Ui, Ki)), [-1, F]);
    const Yi = tf.reshape(tf.add(tf.mul(Ur, Ki), tf.mul(Ui, Kr)), [-1, F]);
    return tf.reshape(tf.add(tf.matMul(Yr, icos), tf.matMul(Yi, isin)), u.shape);
  });
}

/** Re(IDFT) along the last axis as matmuls: y_j = (1/L) Σ_k re_k cos(2πjk/L) − im_k sin(2πjk/L). */
export function matmulIrdft(re: tf.Tensor, im: tf.Tensor): tf.Tensor {
  const L = re.shape[re.rank - 1];
  return tf.tidy(() => {
    const cos = table(`dc${L}`, L, L, (k, j) => Math.cos(angle(k, j, L)) / L);
    const sin = table(`ds${L}`, L, L, (k, j) => -Math.sin(angle(k, j, L)) / L);
    const y = tf.add(tf.matMul(tf.reshape(re, [-1, L]), cos), tf.matMul(tf.reshape(im, [-1, L]), sin));
    return tf.reshape(y, re.shape);
  });
}
