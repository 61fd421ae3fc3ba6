// Part 2: generating functions, Cauchy sums, the DPLR kernel and its RNN form; S4D kernels.
const { forEachBackend, assertClose, assertNoLeak, randn, rng, tf, lib, assert } = require("./helpers");
const { hippoModes } = require("../dist/nn/s4-layer");
const maxAbs = (a) => Math.max(...Array.from(a, Math.abs));

/** A random stable DPLR system in float64: Re Λ < 0, all vectors complex. */
function randomDPLR(N, seed) {
  const r = rng(seed);
  const vec = (scale = 1) =>
    lib.linalg.cvector(
      Array.from({ length: N }, () => scale * (r() - 0.5)),
      Array.from({ length: N }, () => scale * (r() - 0.5)),
    );
  const Lambda = lib.linalg.cvector(
    Array.from({ length: N }, () => -0.1 - r()),
    Array.from({ length: N }, () => 10 * (r() - 0.5)),
  );
  return { Lambda, P: vec(0.5), B: vec(), C: vec() };
}

function hippoDPLR(N, seed) {
  const { Lambda, P, B } = lib.makeDPLRHiPPO(N);
  const r = rng(seed);
  const C = lib.linalg.cvector(
    Array.from({ length: N }, () => r() - 0.5),
    Array.from({ length: N }, () => r() - 0.5),
  );
  return { Lambda, P, B, C };
}

const toTensors = ({ Lambda, P, B, C }) => ({
  Lambda: lib.cx.complex(Float32Array.from(Lambda.re), Float32Array.from(Lambda.im)),
  P: lib.cx.complex(Float32Array.from(P.re), Float32Array.from(P.im)),
  Q: lib.cx.complex(Float32Array.from(P.re), Float32Array.from(P.im)),
  B: lib.cx.complex(Float32Array.from(B.re), Float32Array.from(B.im)),
  C: lib.cx.complex(Float32Array.from(C.re), Float32Array.from(C.im)),
});

/** The dense kernel of the same system: Re(C̄ Ā^k B̄) from discreteDPLR, all float64. */
function denseKernel(sys, step, L) {
  const { Ab, Bb, Cb } = lib.discreteDPLR(sys.Lambda, sys.P, sys.P, sys.B, sys.C, step, L);
  return lib.kConvDense(Ab, Bb, Cb, L).re;
}

describe("Part 2 in float64: generating functions", () => {
  const real = (seed, N) => {
    const r = rng(seed);
    // A stable real SSM: A = −I·2 + small random part, discretized in float64 by hand.
    const A = lib.linalg.CMatrix.from(
      Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => (i === j ? -2 : 0) + 0.5 * (r() - 0.5))),
    );
    const step = 0.1;
    const I = lib.linalg.CMatrix.eye(N);
    const BL = lib.linalg.inverse(lib.linalg.addScaled(I, A, -step / 2));
    const Ab = lib.linalg.matmul(BL, lib.linalg.addScaled(I, A, step / 2));
    const Bb = lib.linalg.matmul(BL, lib.linalg.CMatrix.column(lib.linalg.cvector(Array.from({ length: N }, () => step * r()))));
    return { Ab, Bb: { re: Bb.re, im: Bb.im }, Cb: lib.linalg.cvector(Array.from({ length: N }, () => r())) };
  };

  for (const L of [16, 15]) {
    it(`kGenInverse = kGenSimple = kConv through convFromGen (N=4, L=${L}; float64, atol 1e-10)`, () => {
      const { Ab, Bb, Cb } = real(3, 4);
      const K = lib.kConvDense(Ab, Bb, Cb, L).re;
      assertClose(lib.convFromGen(lib.kGenSimple(Ab, Bb, Cb, L), L), K, 1e-10, 0, "kGenSimple");
      assertClose(lib.convFromGen(lib.kGenInverse(Ab, Bb, Cb, L), L), K, 1e-10, 0, "kGenInverse");
    });
  }

  it("the NPLR form: A + P Pᵀ is normal (S Sᵀ = Sᵀ S, float64 atol 1e-9)", () => {
    for (const N of [8, 64]) {
      const { A, P } = lib.makeNPLRHiPPO(N);
      const S = lib.linalg.addScaled(A, lib.linalg.matmul(lib.linalg.CMatrix.column(P), lib.linalg.CMatrix.column(P).adjoint()));
      const St = S.adjoint();
      assertClose(lib.linalg.matmul(S, St).re, lib.linalg.matmul(St, S).re, 1e-9, 0, `N=${N}`);
    }
  });

  it("the DPLR form rebuilds HiPPO: V (Λ − P̃P̃ᴴ) Vᴴ = A, V unitary (float64 atol 1e-9)", () => {
    for (const N of [8, 64]) {
      const { Lambda, P, V } = lib.makeDPLRHiPPO(N);
      const Pc = lib.linalg.CMatrix.column(P);
      const inner = lib.linalg.addScaled(lib.linalg.CMatrix.diag(Lambda), lib.linalg.matmul(Pc, Pc.adjoint()), -1);
      const A = lib.linalg.matmul(lib.linalg.matmul(V, inner), V.adjoint());
      assertClose(A.re, lib.makeHiPPO(N).re, 1e-9, 0, `real part, N=${N}`);
      assert.ok(A.maxAbsImag() < 1e-9, `imaginary part ${A.maxAbsImag()}`);
      assertClose(lib.linalg.matmul(V.adjoint(), V).re, lib.linalg.CMatrix.eye(N).re, 1e-12, 0, "VᴴV = I");
      assert.ok(
        Array.from(Lambda.re).every((x) => Math.abs(x + 0.5) < 1e-12),
        "Re Λ = −½",
      );
    }
  });

  it("eigh diagonalizes a random Hermitian matrix (float64 atol 1e-10)", () => {
    const N = 12,
      r = rng(5);
    const M = new lib.linalg.CMatrix(
      N,
      N,
      Float64Array.from({ length: N * N }, () => r() - 0.5),
      Float64Array.from({ length: N * N }, () => r() - 0.5),
    );
    const H = lib.linalg.scale(lib.linalg.addScaled(M, M.adjoint()), 0.5);
    const { values, vectors } = lib.linalg.eigh(H);
    const rebuilt = lib.linalg.matmul(lib.linalg.matmul(vectors, lib.linalg.CMatrix.diag(lib.linalg.cvector(values))), vectors.adjoint());
    assertClose(rebuilt.re, H.re, 1e-10, 0, "re");
    assertClose(rebuilt.im, H.im, 1e-10, 0, "im");
    assert.ok(
      values.every((v, i) => i === 0 || values[i - 1] <= v),
      "ascending",
    );
    assert.throws(() => lib.linalg.eigh(M), /eigh: H must be Hermitian/);
  });

  it("matrixPower and solve agree with repeated products and the identity", () => {
    const { Ab } = real(9, 5);
    let P = lib.linalg.CMatrix.eye(5);
    for (let i = 0; i < 13; i++) P = lib.linalg.matmul(P, Ab);
    assertClose(lib.linalg.matrixPower(Ab, 13).re, P.re, 1e-13, 0, "Ā¹³");
    assertClose(lib.linalg.matmul(Ab, lib.linalg.inverse(Ab)).re, lib.linalg.CMatrix.eye(5).re, 1e-12, 0, "Ā Ā⁻¹");
    assert.throws(() => lib.linalg.solve(lib.linalg.CMatrix.zeros(2, 2), lib.linalg.CMatrix.eye(2)), /solve: A is singular/);
    assert.throws(() => lib.linalg.matrixPower(Ab, -1), /p must be an integer ≥ 0/);
  });
});

forEachBackend("Part 2: the DPLR kernel", () => {
  /** @type {[kind: string, N: number, L: number, step: number][]} */
  const cases = [
    ["random", 8, 16, 0.1],
    ["random", 8, 784, 0.01],
    ["random", 64, 16, 0.1],
    ["random", 64, 784, 0.01],
    ["HiPPO", 8, 16, 0.1],
    ["HiPPO", 8, 784, 0.01],
    ["HiPPO", 64, 16, 0.1],
    ["HiPPO", 64, 784, 0.01],
    ["HiPPO", 64, 785, 0.01],
  ];
  for (const [kind, N, L, step] of cases) {
    it(`kernelDPLR = dense kernel of discreteDPLR, ${kind} N=${N} L=${L} (float32 vs float64: atol 1e-4·max|K|, rtol 1e-3)`, () => {
      const sys = kind === "random" ? randomDPLR(N, N + L) : hippoDPLR(N, N + L);
      const dense = denseKernel(sys, step, L);
      const scale = Math.max(...dense.map(Math.abs));
      tf.tidy(() => {
        const K = lib.kernelDPLR(toTensors(sys), step, L).dataSync();
        assert.ok(K.every(Number.isFinite), "kernel is finite (the z = −1 point of even L included)");
        assertClose(K, dense, 1e-4 * scale, 1e-3, "kernel");
      });
    });
  }

  it("the pole at z = −1 (even L) takes its exact limit (Δ/2)·Σ C̃̄ B", () => {
    const sys = randomDPLR(6, 1);
    const step = 0.2;
    tf.tidy(() => {
      const at = lib.kGenDPLR(toTensors(sys), step)(lib.cx.complex([-1], [0]));
      let re = 0,
        im = 0;
      for (let n = 0; n < 6; n++) {
        re += sys.C.re[n] * sys.B.re[n] + sys.C.im[n] * sys.B.im[n];
        im += sys.C.re[n] * sys.B.im[n] - sys.C.im[n] * sys.B.re[n];
      }
      assertClose([at.re.dataSync()[0], at.im.dataSync()[0]], [(step / 2) * re, (step / 2) * im], 1e-6, 1e-5, "K̂(−1)");
    });
  });

  it("the diagonal case is a Cauchy sum: with P = Q = 0, K̂(z) = c(z)·cauchyDot(C̃̄B, g(z), Λ)", () => {
    const sys = randomDPLR(5, 2);
    const step = 0.1;
    tf.tidy(() => {
      const t = toTensors(sys);
      const zero = lib.cx.complex(tf.zeros([5]), tf.zeros([5]));
      const z = lib.cx.complex([0.6, 0.3, -0.2], [0.8, -0.5, 0.9]);
      const gen = lib.kGenDPLR({ ...t, P: zero, Q: zero }, step)(z);
      // g = (2/Δ)(1 − z)/(1 + z), c = 2/(1 + z)
      const onePlus = lib.cx.complex(tf.add(1, z.re), z.im);
      const g = lib.cx.scaleBy(lib.cx.div(lib.cx.complex(tf.sub(1, z.re), tf.neg(z.im)), onePlus), 2 / step);
      const c = lib.cx.scaleBy(lib.cx.reciprocal(onePlus), 2);
      const ref = lib.cx.mul(c, lib.cauchyDot(lib.cx.mul(lib.cx.conj(t.C), t.B), g, t.Lambda));
      assertClose(gen.re.dataSync(), ref.re.dataSync(), 1e-5, 1e-4, "re");
      assertClose(gen.im.dataSync(), ref.im.dataSync(), 1e-5, 1e-4, "im");
    });
  });

  for (const L of [16, 15]) {
    it(`CNN = RNN for S4: discreteDPLR recurrence = kernelDPLR convolution (HiPPO N=8, L=${L}; atol 1e-4)`, () => {
      const sys = hippoDPLR(8, 3);
      const step = 1 / L;
      const u = randn(L, 4);
      const { Ab, Bb, Cb } = lib.discreteDPLR(sys.Lambda, sys.P, sys.P, sys.B, sys.C, step, L);
      const rnn = lib.scanComplexSSM(Ab, Bb, Cb, u);
      tf.tidy(() => {
        const cnn = lib.causalConvolution(tf.tensor1d(u), lib.kernelDPLR(toTensors(sys), step, L));
        assertClose(cnn.dataSync(), rnn, 1e-4, 1e-3, "outputs");
      });
    });
  }

  describe("conjugate pairs", () => {
    /** Random DPLR parameters (H, M), stable (Re Λ < 0), Q = P. */
    function randomParams(H, M, seed) {
      const next = lib.mulberry32(seed);
      const t = (f = (x) => x) =>
        tf.tensor2d(
          Float32Array.from({ length: H * M }, () => f(next() - 0.5)),
          [H, M],
        );
      const P = { re: t(), im: t() };
      return {
        Lambda: { re: t((x) => -0.1 - Math.abs(x)), im: t((x) => 8 * x) },
        P,
        Q: P,
        B: { re: t(), im: t() },
        C: { re: t(), im: t() },
      };
    }
    const disposeParams = (p) => tf.dispose([p.Lambda, p.P, p.B, p.C].flatMap((c) => [c.re, c.im]));

    for (const L of [1, 2, 13, 16, 784]) {
      it(`kernelDPLR with conjugatePairs (⌊L/2⌋ + 1 points) = kernelDPLR of the system with every conjugate mode appended, L=${L} (atol 1e-5·max|K|)`, () => {
        const params = randomParams(3, 4, L);
        const step = tf.tensor1d([0.01, 0.05, 0.1]);
        const [half, full] = tf.tidy(() => [
          lib.kernelDPLR(params, step, L, undefined, { conjugatePairs: true }).dataSync(),
          lib.kernelDPLR(lib.withConjugates(params), step, L).dataSync(),
        ]);
        assertClose(half, full, 1e-5 * maxAbs(full), 0, "conjugate-pair kernel");
        disposeParams(params);
        step.dispose();
      });
    }

    it("its gradients equal those through the appended system, and match central differences", () => {
      const L = 20,
        params = randomParams(2, 3, 5);
      const names = ["Lre", "Lim", "Pre", "Pim", "Bre", "Bim", "Cre", "Cim", "logStep"];
      const x0 = [
        params.Lambda.re,
        params.Lambda.im,
        params.P.re,
        params.P.im,
        params.B.re,
        params.B.im,
        params.C.re,
        params.C.im,
        tf.tensor1d([Math.log(0.03), Math.log(0.2)]),
      ];
      const w = tf.tensor2d(randn(2 * L, 41), [2, L]);
      const make = (Lre, Lim, Pre, Pim, Bre, Bim, Cre, Cim) => {
        const P = { re: Pre, im: Pim };
        return { Lambda: { re: Lre, im: Lim }, P, Q: P, B: { re: Bre, im: Bim }, C: { re: Cre, im: Cim } };
      };
      const lossHalf = (...x) => tf.sum(tf.mul(w, lib.kernelDPLR(make(...x), tf.exp(x[8]), L, undefined, { conjugatePairs: true })));
      const lossFull = (...x) => tf.sum(tf.mul(w, lib.kernelDPLR(lib.withConjugates(make(...x)), tf.exp(x[8]), L)));
      const gHalf = tf.grads(lossHalf)(x0),
        gFull = tf.grads(lossFull)(x0);
      const eps = 1e-2;
      gHalf.forEach((g, i) => {
        const gv = g.dataSync();
        assertClose(gv, gFull[i].dataSync(), 1e-5 * (1 + maxAbs(gv)), 1e-4, `${names[i]}: gradient vs the appended system`);
        const d = tf.tensor(randn(g.size, 50 + i), g.shape);
        const at = (s) => tf.tidy(() => lossHalf(...x0.map((x, j) => (j === i ? tf.add(x, tf.mul(d, s)) : x))).dataSync()[0]);
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        const analytic = tf.sum(tf.mul(g, d)).dataSync()[0];
        assertClose([analytic], [fd], 1e-3 * (1 + Math.abs(fd)), 2e-2, `${names[i]}: directional derivative`);
        d.dispose();
      });
      tf.dispose([...gHalf, ...gFull, w, x0[8]]);
      disposeParams(params);
    });

    it("hippoModes keeps the n/2 HiPPO-LegS modes of positive frequency, whose conjugates are the other half", () => {
      const all = lib.makeDPLRHiPPO(8),
        half = hippoModes(8, true);
      assert.equal(half.Lambda.re.length, 4);
      const sortedIm = (xs) => Array.from(xs).sort((a, b) => a - b);
      const expected = sortedIm(all.Lambda.im).filter((x) => x > 0);
      assertClose(sortedIm(half.Lambda.im), expected, 1e-12, 0, "positive frequencies");
      assertClose(
        sortedIm(all.Lambda.im)
          .filter((x) => x < 0)
          .map((x) => -x)
          .sort((a, b) => a - b),
        expected,
        1e-9,
        0,
        "the rest are their conjugates",
      );
    });

    it("bad input: roots of the wrong length name the expected shape", () => {
      const params = randomParams(1, 2, 3);
      const roots = lib.rootsOfUnityPairs(8);
      assert.throws(
        () => lib.kernelDPLR(params, 0.1, 8, roots, { conjugatePairs: true }),
        /kernelDPLR: roots must have shape \(5, 2\) \(⌊L\/2⌋ \+ 1 points with conjugate pairs\), got \(8, 2\)/,
      );
      assert.throws(() => lib.rootsOfUnityPairs(8, 9), /rootsOfUnityPairs: count must be a whole number from 1 to L = 8, got 9/);
      tf.dispose(roots);
      disposeParams(params);
    });
  });

  it("gradients through kernelDPLR w.r.t. Λ, P, B, C and log step are finite and match central differences", () => {
    const N = 6,
      L = 32;
    const sys = hippoDPLR(N, 8);
    const t = toTensors(sys);
    const w = tf.tensor1d(randn(L, 9));
    const names = ["Lre", "Lim", "Pre", "Pim", "Bre", "Bim", "Cre", "Cim", "logStep"];
    const x0 = [t.Lambda.re, t.Lambda.im, t.P.re, t.P.im, t.B.re, t.B.im, t.C.re, t.C.im, tf.scalar(Math.log(0.05))];
    // Q is tied to P, as in the S4 layer.
    const loss = (Lre, Lim, Pre, Pim, Bre, Bim, Cre, Cim, logStep) => {
      const P = { re: Pre, im: Pim };
      const K = lib.kernelDPLR(
        { Lambda: { re: Lre, im: Lim }, P, Q: P, B: { re: Bre, im: Bim }, C: { re: Cre, im: Cim } },
        tf.exp(logStep),
        L,
      );
      return tf.sum(tf.mul(w, K));
    };
    const grads = tf.grads(loss)(x0);
    const eps = 1e-2;
    grads.forEach((g, i) => {
      const gv = g.dataSync();
      assert.ok(gv.every(Number.isFinite), `${names[i]}: gradient is finite`);
      const d = i === 8 ? tf.scalar(1) : tf.tensor1d(randn(N, 20 + i));
      const at = (s) => loss(...x0.map((x, j) => (j === i ? tf.add(x, tf.mul(d, s)) : x))).dataSync()[0];
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = tf.sum(tf.mul(g, d)).dataSync()[0];
      assertClose([analytic], [fd], 1e-3 * (1 + Math.abs(fd)), 2e-2, `${names[i]}: directional derivative`);
    });
    tf.dispose([...grads, w, x0[8]]);
  });

  it("irdft: the InverseRealDFT kernel equals the matmul DFT (values and gradients) for L = 1, 7, 64, 784", () => {
    for (const L of [1, 7, 64, 784]) {
      tf.tidy(() => {
        const re = tf.tensor2d(randn(2 * L, L), [2, L]),
          im = tf.tensor2d(randn(2 * L, L + 1), [2, L]);
        const w = tf.tensor2d(randn(2 * L, L + 2), [2, L]);
        const f = (op) => (a, b) => tf.sum(tf.mul(w, op(a, b)));
        assertClose(lib.kernels.irdft(re, im).dataSync(), lib.kernels.matmulIrdft(re, im).dataSync(), 1e-5, 1e-4, `value L=${L}`);
        const g1 = tf.grads(f(lib.kernels.irdft))([re, im]);
        const g2 = tf.grads(f(lib.kernels.matmulIrdft))([re, im]);
        assertClose(g1[0].dataSync(), g2[0].dataSync(), 1e-5, 1e-4, `d re L=${L}`);
        assertClose(g1[1].dataSync(), g2[1].dataSync(), 1e-5, 1e-4, `d im L=${L}`);
      });
    }
  });

  it("matmulCausalConv (the fallback path) equals the causalConv kernel", () => {
    tf.tidy(() => {
      const u = tf.tensor3d(randn(2 * 3 * 50, 1), [2, 3, 50]),
        k = tf.tensor2d(randn(150, 2), [3, 50]);
      assertClose(lib.kernels.matmulCausalConv(u, k).dataSync(), lib.kernels.causalConv(u, k).dataSync(), 1e-4, 1e-4, "y");
    });
  });

  it("leaves no tensors behind", () => {
    const t = toTensors(hippoDPLR(8, 1));
    assertNoLeak(() => lib.kernelDPLR(t, 0.1, 16), "kernelDPLR");
    const step = tf.scalar(0.1);
    assertNoLeak(() => lib.kernelDPLR(t, step, 16), "kernelDPLR, tensor step");
    const z = lib.cx.complex([0.5], [0.5]);
    assertNoLeak(() => Object.values(lib.kGenDPLR(t, 0.1)(z)), "kGenDPLR");
    assertNoLeak(() => Object.values(lib.cauchyDot(t.B, z, t.Lambda)), "cauchyDot");
    assertNoLeak(
      () => tf.grads((a) => tf.sum(lib.kernelDPLR({ ...t, Lambda: { re: a, im: t.Lambda.im } }, 0.1, 16)))([t.Lambda.re]),
      "kernelDPLR gradient",
    );
    const s4d = { L: lib.cx.fromCVector(lib.s4dLinInit(4)), B: lib.cx.complex(tf.ones([4])), C: lib.cx.complex(tf.ones([4])) };
    assertNoLeak(() => lib.s4dKernel(s4d.L, s4d.B, s4d.C, 0.1, 16, "zoh"), "s4dKernel");
  });

  it("bad input gets an error naming the argument", () => {
    const t = toTensors(randomDPLR(4, 1));
    assert.throws(() => lib.kernelDPLR(t, 0, 16), /kGenDPLR: step must be a finite number > 0, got 0/);
    assert.throws(() => lib.kernelDPLR(t, NaN, 16), /step must be a finite number > 0, got NaN/);
    assert.throws(() => lib.kernelDPLR(t, 0.1, 0), /kernelDPLR: L must be a positive integer, got 0/);
    assert.throws(
      () => lib.kernelDPLR({ ...t, B: lib.cx.complex(tf.zeros([5])) }, 0.1, 8),
      /B.re must have the shape of Lambda \(4\), got \(5\)/,
    );
    assert.throws(() => lib.kernelDPLR(t, tf.ones([3]), 8), /step must be a number, a scalar, or have the leading shape/);
    const sys = randomDPLR(4, 1);
    assert.throws(
      () => lib.discreteDPLR(sys.Lambda, sys.P, sys.P, sys.B, sys.C, -0.1, 8),
      /discreteDPLR: step must be a finite number > 0/,
    );
    assert.throws(
      () => lib.discreteDPLR(lib.linalg.cvector([NaN, 1, 2, 3]), sys.P, sys.P, sys.B, sys.C, 0.1, 8),
      /discreteDPLR: Lambda.re must be finite, got NaN/,
    );
    assert.throws(
      () => lib.discreteDPLR(sys.Lambda, lib.linalg.cvector([1]), sys.P, sys.B, sys.C, 0.1, 8),
      /discreteDPLR: P must have length N = 4, got 1/,
    );
    assert.throws(() => lib.makeHiPPO(0), /makeHiPPO: N must be a positive integer, got 0/);
    assert.throws(() => lib.makeDPLRHiPPO(2.5), /N must be a positive integer, got 2.5/);
    // @ts-expect-error -- deliberately wrong: an unknown discretization
    assert.throws(() => lib.s4dKernel(t.Lambda, t.B, t.C, 0.1, 8, "euler"), /method must be one of "zoh", "bilinear", got "euler"/);
    assert.throws(() => lib.s4dKernel(t.Lambda, t.B, t.C, -1, 8), /s4dKernel: step must be a finite number > 0/);
    assert.throws(() => lib.kConvDense(lib.linalg.CMatrix.eye(3), sys.B, sys.C, 4), /kConvDense: Bb must have length N = 3/);
  });
});

forEachBackend("S4D: diagonal kernels", () => {
  for (const method of /** @type {const} */ (["zoh", "bilinear"])) {
    for (const init of ["s4dLinInit", "s4dInvInit"]) {
      it(`${method} kernel (${init}, N=16, L=64) = its recurrence x_n ← Ā_n x_n + B̄_n u, y = 2 Re Σ C_n x_n (atol 1e-4)`, () => {
        const N = 16,
          L = 64,
          step = 0.05;
        const Lambda = lib[init](N);
        const r = rng(11);
        const B = lib.linalg.cvector(
          Array.from({ length: N }, () => 1),
          new Array(N).fill(0),
        );
        const C = lib.linalg.cvector(
          Array.from({ length: N }, () => r() - 0.5),
          Array.from({ length: N }, () => r() - 0.5),
        );
        const u = randn(L, 12);
        // float64 recurrence with complex arithmetic
        const y = new Float64Array(L);
        const xr = new Float64Array(N),
          xi = new Float64Array(N);
        const Abr = [],
          Abi = [],
          Bbr = [],
          Bbi = [];
        for (let n = 0; n < N; n++) {
          const [a, b] = [Lambda.re[n] * step, Lambda.im[n] * step];
          let ar, ai, br, bi;
          if (method === "zoh") {
            ar = Math.exp(a) * Math.cos(b);
            ai = Math.exp(a) * Math.sin(b);
            // (e^{ΔΛ} − 1)/Λ
            const [nr, ni] = [ar - 1, ai],
              d = Lambda.re[n] ** 2 + Lambda.im[n] ** 2;
            br = (nr * Lambda.re[n] + ni * Lambda.im[n]) / d;
            bi = (ni * Lambda.re[n] - nr * Lambda.im[n]) / d;
          } else {
            const [dr, di] = [1 - a / 2, -b / 2],
              d = dr * dr + di * di;
            const [pr, pi] = [1 + a / 2, b / 2];
            ar = (pr * dr + pi * di) / d;
            ai = (pi * dr - pr * di) / d;
            br = (step * dr) / d;
            bi = (-step * di) / d;
          }
          Abr.push(ar);
          Abi.push(ai);
          Bbr.push(br);
          Bbi.push(bi);
        }
        for (let k = 0; k < L; k++) {
          let acc = 0;
          for (let n = 0; n < N; n++) {
            const nr = Abr[n] * xr[n] - Abi[n] * xi[n] + Bbr[n] * u[k];
            const ni = Abr[n] * xi[n] + Abi[n] * xr[n] + Bbi[n] * u[k];
            xr[n] = nr;
            xi[n] = ni;
            acc += 2 * (C.re[n] * nr - C.im[n] * ni);
          }
          y[k] = acc;
        }
        tf.tidy(() => {
          const K = lib.s4dKernel(lib.cx.fromCVector(Lambda), lib.cx.fromCVector(B), lib.cx.fromCVector(C), step, L, method);
          const cnn = lib.causalConvolution(tf.tensor1d(u), K);
          assertClose(cnn.dataSync(), y, 1e-4, 1e-3, "outputs");
        });
      });
    }
  }

  for (const method of /** @type {const} */ (["zoh", "bilinear"])) {
    it(`${method} kernel gradients w.r.t. Λ, B, C and log step match central differences`, () => {
      const N = 6,
        L = 40;
      const Lambda = lib.s4dInvInit(N);
      const x0 = [
        tf.tensor1d(Float32Array.from(Lambda.re)),
        tf.tensor1d(Float32Array.from(Lambda.im)),
        tf.tensor1d(randn(N, 30)),
        tf.tensor1d(randn(N, 31)),
        tf.tensor1d(randn(N, 32)),
        tf.tensor1d(randn(N, 33)),
        tf.scalar(Math.log(0.03)),
      ];
      const w = tf.tensor1d(randn(L, 34));
      const loss = (Lre, Lim, Bre, Bim, Cre, Cim, logStep) =>
        tf.sum(tf.mul(w, lib.s4dKernel({ re: Lre, im: Lim }, { re: Bre, im: Bim }, { re: Cre, im: Cim }, tf.exp(logStep), L, method)));
      const grads = tf.grads(loss)(x0);
      grads.forEach((g, i) => {
        // the kernel curves fast in log step: a smaller difference step keeps truncation error down
        const eps = i === 6 ? 1e-3 : 1e-2;
        assert.ok(g.dataSync().every(Number.isFinite), `input ${i}: finite gradient`);
        const d = i === 6 ? tf.scalar(1) : tf.tensor1d(randn(N, 40 + i));
        const at = (sgn) => loss(...x0.map((x, j) => (j === i ? tf.add(x, tf.mul(d, sgn * eps)) : x))).dataSync()[0];
        const fd = (at(1) - at(-1)) / (2 * eps);
        assertClose([tf.sum(tf.mul(g, d)).dataSync()[0]], [fd], 1e-3 * (1 + Math.abs(fd)), 2e-2, `input ${i}: directional derivative`);
      });
    });
  }

  it("S4D-Inv approximates the imaginary parts of diagonalized LegS (the larger ones within 15 %)", () => {
    const N = 64;
    const legs = Array.from(lib.makeDPLRHiPPO(2 * N).Lambda.im)
      .filter((x) => x > 0)
      .sort((a, b) => b - a);
    const inv = Array.from(lib.s4dInvInit(N).im).sort((a, b) => b - a);
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(inv[i] - legs[i]) / legs[i] < 0.15, `mode ${i}: ${inv[i]} vs ${legs[i]}`);
  });
});
