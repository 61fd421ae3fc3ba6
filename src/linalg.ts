/**
 * Small dense float64 linear algebra for initialization and checks (tfjs has no float64 tensors
 * and no inverse, solve or eigendecomposition): complex matrices as pairs of Float64Arrays.
 * Sizes here are N ≤ a few hundred, so plain O(N³) loops are the right tool.
 *
 * Also `inv`, a differentiable batched inverse of float32 tensors for the Part 1 SSM layer.
 */
import * as tf from "@tensorflow/tfjs";
import { checkFiniteArray } from "./checks";
import { customOp1 } from "./custom-grad";
import { hostBackend } from "./host-backend";
import { formatShape } from "./shape-format";

/** A complex float64 matrix, row-major: entry (i, j) is `re[i * cols + j] + i·im[i * cols + j]`. */
export class CMatrix {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly re: Float64Array = new Float64Array(rows * cols),
    readonly im: Float64Array = new Float64Array(rows * cols),
  ) {
    if (re.length !== rows * cols || im.length !== rows * cols) {
      throw new Error(`CMatrix: re and im must hold rows·cols = ${rows * cols} entries, got ${re.length} and ${im.length}`);
    }
  }

  static zeros(rows: number, cols: number): CMatrix {
    return new CMatrix(rows, cols);
  }

  static eye(n: number): CMatrix {
    const m = new CMatrix(n, n);
    for (let i = 0; i < n; i++) m.re[i * n + i] = 1;
    return m;
  }

  /** From nested arrays of numbers (imaginary part optional). */
  static from(re: number[][], im?: number[][]): CMatrix {
    const rows = re.length;
    const cols = rows ? re[0].length : 0;
    const m = new CMatrix(rows, cols);
    for (let i = 0; i < rows; i++) {
      if (re[i].length !== cols) throw new Error(`CMatrix.from: row ${i} has ${re[i].length} entries, expected ${cols}`);
      for (let j = 0; j < cols; j++) {
        m.re[i * cols + j] = re[i][j];
        m.im[i * cols + j] = im ? im[i][j] : 0;
      }
    }
    return m;
  }

  /** A column vector (n, 1) from a complex vector. */
  static column(v: CVector): CMatrix {
    return new CMatrix(v.re.length, 1, Float64Array.from(v.re), Float64Array.from(v.im));
  }

  /** A diagonal matrix with `v` on the diagonal. */
  static diag(v: CVector): CMatrix {
    const n = v.re.length;
    const m = new CMatrix(n, n);
    for (let i = 0; i < n; i++) {
      m.re[i * n + i] = v.re[i];
      m.im[i * n + i] = v.im[i];
    }
    return m;
  }

  get(i: number, j: number): [number, number] {
    const k = i * this.cols + j;
    return [this.re[k], this.im[k]];
  }

  /** Real part as nested arrays (what plots and fixtures use). */
  toNested(part: "re" | "im" = "re"): number[][] {
    const src = this[part];
    return Array.from({ length: this.rows }, (_, i) => Array.from(src.subarray(i * this.cols, (i + 1) * this.cols)));
  }

  /** Conjugate transpose Aᴴ. */
  adjoint(): CMatrix {
    const out = new CMatrix(this.cols, this.rows);
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < this.cols; j++) {
        out.re[j * this.rows + i] = this.re[i * this.cols + j];
        out.im[j * this.rows + i] = -this.im[i * this.cols + j];
      }
    }
    return out;
  }

  conj(): CMatrix {
    return new CMatrix(
      this.rows,
      this.cols,
      Float64Array.from(this.re),
      this.im.map((x) => -x),
    );
  }

  /** Largest |imaginary part| (to check that a result is real). */
  maxAbsImag(): number {
    let m = 0;
    for (const x of this.im) m = Math.max(m, Math.abs(x));
    return m;
  }

  /** The matrix as a float32 tensor of its real part. */
  toTensor(): tf.Tensor2D {
    return tf.tensor2d(Float32Array.from(this.re), [this.rows, this.cols]);
  }
}

/** A complex float64 vector. */
export interface CVector {
  re: Float64Array;
  im: Float64Array;
}

export function cvector(re: ArrayLike<number>, im?: ArrayLike<number>): CVector {
  const r = Float64Array.from(re);
  return { re: r, im: im ? Float64Array.from(im) : new Float64Array(r.length) };
}

/** A real float64 vector as a complex one. */
export function realVector(v: ArrayLike<number>): CVector {
  return cvector(v);
}

export function matmul(a: CMatrix, b: CMatrix): CMatrix {
  if (a.cols !== b.rows) throw new Error(`matmul: inner sizes differ, a is (${a.rows}, ${a.cols}) and b is (${b.rows}, ${b.cols})`);
  const out = new CMatrix(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const ar = a.re[i * a.cols + k];
      const ai = a.im[i * a.cols + k];
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < n; j++) {
        const br = b.re[k * n + j];
        const bi = b.im[k * n + j];
        out.re[i * n + j] += ar * br - ai * bi;
        out.im[i * n + j] += ar * bi + ai * br;
      }
    }
  }
  return out;
}

/** a + alpha·b, elementwise (alpha real). */
export function addScaled(a: CMatrix, b: CMatrix, alpha = 1): CMatrix {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`addScaled: shapes differ, (${a.rows}, ${a.cols}) and (${b.rows}, ${b.cols})`);
  }
  return new CMatrix(
    a.rows,
    a.cols,
    a.re.map((x, i) => x + alpha * b.re[i]),
    a.im.map((x, i) => x + alpha * b.im[i]),
  );
}

/** Multiplies every entry by the complex number (sr + i·si). */
export function scale(a: CMatrix, sr: number, si = 0): CMatrix {
  return new CMatrix(
    a.rows,
    a.cols,
    a.re.map((x, i) => x * sr - a.im[i] * si),
    a.re.map((x, i) => x * si + a.im[i] * sr),
  );
}

/**
 * Solves A X = B by Gaussian elimination with partial pivoting. Throws when A is singular to
 * working precision.
 */
export function solve(a: CMatrix, b: CMatrix): CMatrix {
  const n = a.rows;
  if (a.cols !== n) throw new Error(`solve: A must be square, got (${a.rows}, ${a.cols})`);
  if (b.rows !== n) throw new Error(`solve: B must have ${n} rows, got ${b.rows}`);
  checkFiniteArray("solve: A (real part)", a.re);
  checkFiniteArray("solve: A (imaginary part)", a.im);
  const m = b.cols;
  const ar = Float64Array.from(a.re),
    ai = Float64Array.from(a.im);
  const xr = Float64Array.from(b.re),
    xi = Float64Array.from(b.im);
  let scaleA = 0;
  for (let k = 0; k < n * n; k++) scaleA = Math.max(scaleA, Math.hypot(ar[k], ai[k]));
  for (let col = 0; col < n; col++) {
    let piv = col;
    let best = -1;
    for (let r = col; r < n; r++) {
      const mag = Math.hypot(ar[r * n + col], ai[r * n + col]);
      if (mag > best) {
        best = mag;
        piv = r;
      }
    }
    if (best <= scaleA * 1e-14 || best === 0) throw new Error(`solve: A is singular (pivot ${best} in column ${col})`);
    if (piv !== col) {
      for (let j = 0; j < n; j++) {
        [ar[col * n + j], ar[piv * n + j]] = [ar[piv * n + j], ar[col * n + j]];
        [ai[col * n + j], ai[piv * n + j]] = [ai[piv * n + j], ai[col * n + j]];
      }
      for (let j = 0; j < m; j++) {
        [xr[col * m + j], xr[piv * m + j]] = [xr[piv * m + j], xr[col * m + j]];
        [xi[col * m + j], xi[piv * m + j]] = [xi[piv * m + j], xi[col * m + j]];
      }
    }
    // 1 / pivot
    const pr = ar[col * n + col],
      pi = ai[col * n + col];
    const d = pr * pr + pi * pi;
    const ir = pr / d,
      ii = -pi / d;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const er = ar[r * n + col],
        ei = ai[r * n + col];
      if (er === 0 && ei === 0) continue;
      const fr = er * ir - ei * ii,
        fi = er * ii + ei * ir; // factor = A[r,col] / pivot
      for (let j = col; j < n; j++) {
        const cr = ar[col * n + j],
          ci = ai[col * n + j];
        ar[r * n + j] -= fr * cr - fi * ci;
        ai[r * n + j] -= fr * ci + fi * cr;
      }
      for (let j = 0; j < m; j++) {
        const cr = xr[col * m + j],
          ci = xi[col * m + j];
        xr[r * m + j] -= fr * cr - fi * ci;
        xi[r * m + j] -= fr * ci + fi * cr;
      }
    }
  }
  // A is now diagonal: divide each row of X by its pivot.
  for (let r = 0; r < n; r++) {
    const pr = ar[r * n + r],
      pi = ai[r * n + r];
    const d = pr * pr + pi * pi;
    for (let j = 0; j < m; j++) {
      const cr = xr[r * m + j],
        ci = xi[r * m + j];
      xr[r * m + j] = (cr * pr + ci * pi) / d;
      xi[r * m + j] = (ci * pr - cr * pi) / d;
    }
  }
  return new CMatrix(n, m, xr, xi);
}

export function inverse(a: CMatrix): CMatrix {
  return solve(a, CMatrix.eye(a.rows));
}

/** A^p for an integer p ≥ 0 by repeated squaring (log₂ p products: Ā^784 costs 10 + 4). */
export function matrixPower(a: CMatrix, p: number): CMatrix {
  if (a.rows !== a.cols) throw new Error(`matrixPower: A must be square, got (${a.rows}, ${a.cols})`);
  if (!Number.isInteger(p) || p < 0) throw new Error(`matrixPower: p must be an integer ≥ 0, got ${p}`);
  let result = CMatrix.eye(a.rows);
  let base = a;
  for (let e = p; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) result = matmul(result, base);
    if (e > 1) base = matmul(base, base);
  }
  return result;
}

/**
 * Eigendecomposition of a Hermitian matrix H = V diag(w) Vᴴ by cyclic Jacobi rotations (robust,
 * accurate to machine precision, fast enough for N ≤ 256). Eigenvalues ascending, V unitary.
 */
export function eigh(h: CMatrix, tol = 1e-14, maxSweeps = 100): { values: Float64Array; vectors: CMatrix } {
  const n = h.rows;
  if (h.cols !== n) throw new Error(`eigh: H must be square, got (${h.rows}, ${h.cols})`);
  checkFiniteArray("eigh: H (real part)", h.re);
  checkFiniteArray("eigh: H (imaginary part)", h.im);
  let herm = 0,
    size = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      herm = Math.max(herm, Math.hypot(h.re[i * n + j] - h.re[j * n + i], h.im[i * n + j] + h.im[j * n + i]));
      size = Math.max(size, Math.hypot(h.re[i * n + j], h.im[i * n + j]));
    }
  }
  if (herm > 1e-10 * Math.max(size, 1)) throw new Error(`eigh: H must be Hermitian, but |H - Hᴴ| reaches ${herm}`);
  const ar = Float64Array.from(h.re),
    ai = Float64Array.from(h.im);
  const v = CMatrix.eye(n);
  const offNorm = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) s += ar[i * n + j] ** 2 + ai[i * n + j] ** 2;
    return Math.sqrt(s);
  };
  const scaleH = Math.max(size, 1e-300);
  for (let sweep = 0; sweep < maxSweeps && offNorm() > tol * scaleH; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const br = ar[p * n + q],
          bi = ai[p * n + q];
        const beta = Math.hypot(br, bi);
        if (beta < 1e-300) continue;
        // b = beta·w with |w| = 1; the rotation V2 = diag(1, w̄)·R(θ) makes the (p, q) block diagonal.
        const wr = br / beta,
          wi = bi / beta;
        const theta = 0.5 * Math.atan2(2 * beta, ar[p * n + p] - ar[q * n + q]);
        const c = Math.cos(theta),
          s = Math.sin(theta);
        // Columns: [col_p, col_q] ← [c·col_p + s·w̄·col_q, -s·col_p + c·w̄·col_q]
        const rotateColumns = (mr: Float64Array, mi: Float64Array, rows: number) => {
          for (let k = 0; k < rows; k++) {
            const pr = mr[k * n + p],
              pi = mi[k * n + p];
            const qr = mr[k * n + q],
              qi = mi[k * n + q];
            const wqr = qr * wr + qi * wi,
              wqi = qi * wr - qr * wi; // w̄·col_q
            mr[k * n + p] = c * pr + s * wqr;
            mi[k * n + p] = c * pi + s * wqi;
            mr[k * n + q] = -s * pr + c * wqr;
            mi[k * n + q] = -s * pi + c * wqi;
          }
        };
        rotateColumns(ar, ai, n);
        rotateColumns(v.re, v.im, n);
        // Rows: [row_p, row_q] ← [c·row_p + s·w·row_q, -s·row_p + c·w·row_q]
        for (let k = 0; k < n; k++) {
          const pr = ar[p * n + k],
            pi = ai[p * n + k];
          const qr = ar[q * n + k],
            qi = ai[q * n + k];
          const wqr = qr * wr - qi * wi,
            wqi = qi * wr + qr * wi; // w·row_q
          ar[p * n + k] = c * pr + s * wqr;
          ai[p * n + k] = c * pi + s * wqi;
          ar[q * n + k] = -s * pr + c * wqr;
          ai[q * n + k] = -s * pi + c * wqi;
        }
        ar[p * n + q] = ai[p * n + q] = ar[q * n + p] = ai[q * n + p] = 0;
        ai[p * n + p] = ai[q * n + q] = 0;
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => ar[i * n + i] - ar[j * n + j]);
  const values = Float64Array.from(order, (i) => ar[i * n + i]);
  const vectors = new CMatrix(n, n);
  for (let col = 0; col < n; col++) {
    for (let r = 0; r < n; r++) {
      vectors.re[r * n + col] = v.re[r * n + order[col]];
      vectors.im[r * n + col] = v.im[r * n + order[col]];
    }
  }
  return { values, vectors };
}

/**
 * Gauss–Jordan inversion with partial pivoting in plain tf ops, for a batch `a: (..., n, n)`:
 * n steps of a few ops each. Row swaps are products with permutation matrices built from
 * one-hot vectors, so nothing reads tensor values on the host (WebGPU cannot do so synchronously).
 */
export function invGaussJordan(a: tf.Tensor): tf.Tensor {
  const n = a.shape[a.rank - 1];
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const eye = tf.broadcastTo(tf.eye(n), [...lead, n, n]);
    let m = tf.concat([a, eye], -1); // (..., n, 2n): [A | I]
    const rowIndex = tf.range(0, n, 1, "int32");
    for (let c = 0; c < n; c++) {
      const col = tf.squeeze(tf.slice(m, [...lead.map(() => 0), 0, c], [...lead, n, 1]), [-1]); // (..., n)
      const candidates = tf.where(tf.less(rowIndex, c), tf.fill(col.shape, -1), tf.abs(col));
      const ec = tf.oneHot(tf.fill(lead, c, "int32"), n).reshape([...lead, n]);
      const ep = tf.oneHot(tf.argMax(candidates, -1), n).reshape([...lead, n]);
      const outer = (x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.expandDims(x, -1), tf.expandDims(y, -2));
      // P swaps rows c and p (P = I when p = c).
      const P = tf.add(tf.sub(eye, tf.add(outer(ec, ec), outer(ep, ep))), tf.add(outer(ec, ep), outer(ep, ec)));
      m = tf.matMul(P, m);
      const pivotCol = tf.squeeze(tf.slice(m, [...lead.map(() => 0), 0, c], [...lead, n, 1]), [-1]); // (..., n)
      const pivotRow = tf.matMul(tf.expandDims(ec, -2), m); // (..., 1, 2n)
      const pivot = tf.sum(tf.mul(pivotCol, ec), -1, true); // (..., 1)
      const scaled = tf.div(pivotRow, tf.expandDims(pivot, -1));
      // Every row i loses M[i, c]·(scaled pivot row); row c becomes the scaled pivot row.
      m = tf.sub(m, tf.mul(tf.expandDims(tf.sub(pivotCol, ec), -1), scaled));
    }
    return tf.slice(m, [...lead.map(() => 0), 0, n], [...lead, n, n]);
  });
}

/** Inverts each (n, n) matrix of a float32 batch in float64 on the host (through `solve`). */
function invertBatchHost(data: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, n: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let off = 0; off < data.length; off += n * n) {
    const m = new CMatrix(n, n, Float64Array.from(data.subarray(off, off + n * n)));
    out.set(inverse(m).re, off);
  }
  return out;
}

/**
 * Differentiable matrix inverse of a batch `a: (..., n, n)` (tfjs has none). Forward: float64 on
 * the host for the cpu and wasm backends, `invGaussJordan` in tf ops elsewhere. Backward:
 * d(A⁻¹) = −A⁻¹ dA A⁻¹, so dA = −A⁻ᵀ g A⁻ᵀ.
 */
export function inv(a: tf.Tensor): tf.Tensor {
  const n = a.shape[a.rank - 1];
  if (a.rank < 2 || a.shape[a.rank - 2] !== n) {
    throw new Error(`inv: a must have shape (..., n, n), got ${formatShape(a.shape)}`);
  }
  const op = customOp1((x, save) => {
    const y = hostBackend() ? tf.tensor(invertBatchHost(x.dataSync() as Float32Array, n), x.shape) : invGaussJordan(x);
    save([y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const perm = [...Array.from({ length: a.rank - 2 }, (_, i) => i), a.rank - 1, a.rank - 2];
        const yT = tf.transpose(saved[0], perm);
        return tf.neg(tf.matMul(tf.matMul(yT, dy), yT));
      },
    };
  });
  return op(a);
}
