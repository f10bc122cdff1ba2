// GEMM cases checked against the plain reference, in plain JS so that the same code runs in
// the jest process and in child processes started with POSAPL_ISA (the SIMD path is chosen
// once per process). gemm.test.ts drives both; run alone, it prints the results as JSON:
//   POSAPL_ISA=avx2 node test/unit/gemm.cases.js '<cases as JSON>'
'use strict';

// Globals looked up once: under jest this module runs in a vm context, where every lookup of a
// global such as Math goes through the context's interceptors and costs more than the maths.
const { abs: absolute, imul, sqrt } = Math;

/** Seeded uniform values in [-1, 1) (mulberry32, as test/helpers/numeric.ts). */
function randomArray(n, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const abs = (x) => x && x.map(absolute);

/**
 * Runs gemm and gemmReference on one case and returns the worst error as a multiple of its
 * tolerance (<= 1 passes), for c and, when requested, pre.
 *
 * Tolerance, element-wise, from S = |alpha| |op(A)| |op(B)| + |beta C| + |bias| (the same
 * GEMM on absolute values, so cancellation cannot hide or inflate an error):
 *   pre, and c without activation:  (4 + sqrt(K)) * 1e-6 * S     (fp32 accumulation order)
 *   c after ReLU / GELU:            1.13 x the above + 1e-6 |c| + 1e-7 |pre|
 * (GELU is 1.13-Lipschitz; its vectorised erf is within 1e-6 relative of std::erf, except where
 * the reference's own 1 + erf(x) cancels for x < -3, hence the term in |pre|.)
 * A case with `sweep` computes c = act(x) for x evenly spread over [-sweep, sweep]: K = 1 and
 * op(A) = 1, so the products are exact and only the activation is tested.
 */
function compareGemm(addon, cases) {
  return cases.map((cs) => {
    const { m, n, k, transA = false, transB = false, alpha = 1, beta = 0, activation = 0, seed = 1 } = cs;
    let a = randomArray(m * k, seed);
    let b = randomArray(k * n, seed + 1);
    if (cs.sweep) {
      a = new Float32Array(m * k).fill(1);
      b = b.map((_, i) => -cs.sweep + (2 * cs.sweep * i) / Math.max(1, b.length - 1));
    }
    const bias = cs.bias ? randomArray(n, seed + 2) : null;
    const c0 = randomArray(m * n, seed + 3);
    // beta 0 must not read C: NaN there would poison the result.
    const start = () => (beta === 0 ? new Float32Array(m * n).fill(NaN) : c0.slice());
    const c = start();
    const pre = cs.pre ? new Float32Array(m * n).fill(NaN) : null;
    addon.gemm({ c, pre, a, b, bias, m, n, k, transA, transB, alpha, beta, activation });
    const cRef = start();
    const preRef = new Float32Array(m * n);
    addon.gemmReference({ c: cRef, pre: preRef, a, b, bias, m, n, k, transA, transB, alpha, beta, activation });
    const scale = abs(c0);
    addon.gemmReference({ c: scale, pre: null, a: abs(a), b: abs(b), bias: abs(bias), m, n, k, transA, transB,
      alpha: absolute(alpha), beta: absolute(beta), activation: 0 });

    let worst = { ratio: 0, index: -1, output: '', got: 0, want: 0 };
    const check = (output, got, want, tolerance) => {
      for (let i = 0; i < got.length; i++) {
        const ratio = absolute(got[i] - want[i]) / tolerance(i);
        if (!(ratio <= worst.ratio)) {
          worst = { ratio: Number.isNaN(ratio) ? Infinity : ratio, index: i, output, got: got[i], want: want[i] };
        }
      }
    };
    const linear = (i) => (cs.sweep ? 0 : (4 + sqrt(k)) * 1e-6 * scale[i]) + 1e-30;
    const activated = activation === 0 ? linear
      : (i) => 1.13 * linear(i) + 1e-6 * absolute(cRef[i]) + 1e-7 * absolute(preRef[i]);
    check('c', c, cRef, activated);
    if (pre) check('pre', pre, preRef, linear);
    return { ...cs, ...worst };
  });
}

module.exports = { compareGemm, randomArray };

if (require.main === module) {
  const path = require('path');
  const addon = require(path.resolve(__dirname, '../../build/Release/posapl.node'));
  const results = compareGemm(addon, JSON.parse(process.argv[2]));
  process.stdout.write(JSON.stringify({ isa: addon.info().isa, results }));
}
