import { spawnSync } from 'child_process';
import * as path from 'path';
import { addon, nativeInfo } from '../../src/native/addon';
import { activationBackward, biasGrad, gemm, gemmReference } from '../../src/ops/gemm';
import { expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';

interface GemmCase {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  bias?: boolean;
  activation?: number;
  pre?: boolean;
  seed?: number;
  sweep?: number;
}
interface GemmResult extends GemmCase {
  ratio: number;
  index: number;
  output: string;
  got: number;
  want: number;
}
// Shared with the child processes below; its tolerances are documented there.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compareGemm } = require('./gemm.cases.js') as {
  compareGemm: (raw: unknown, cases: GemmCase[]) => GemmResult[];
};

// Shapes chosen to hit every edge of the blocking on every path: single elements, partial
// register tiles in M and N (14x32, 6x16 and 4x8 tiles), K in several blocks (K > 1024,
// 512 and 256 on AVX-512, AVX2 and scalar), M in several A blocks (500 rows at K 1100), N in
// several B blocks per thread (4200 columns at K 1024, with 2 threads), and work enough to be
// split across threads.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 5], [3, 100, 1], [17, 33, 65], [14, 32, 16], [15, 33, 300], [29, 65, 520],
  [700, 40, 30], [500, 40, 1100], [2, 4200, 1024], [64, 64, 64], [300, 200, 150],
];
// Epilogue variants, cycled over shapes and transposes so each shape meets several.
const VARIANTS: Array<Partial<GemmCase>> = [
  {},
  { beta: 1, bias: true },
  { alpha: 0.5, beta: 0.75, bias: true, activation: 1, pre: true },
  { alpha: -1.5, bias: true, activation: 2, pre: true },
  { beta: 1, activation: 2 },
  { alpha: 2, activation: 1 },
];
const TRANSPOSES = [[false, false], [false, true], [true, false], [true, true]];

function gemmCases(): GemmCase[] {
  const cases: GemmCase[] = [];
  let v = 0;
  SHAPES.forEach(([m, n, k], s) => {
    for (const [transA, transB] of TRANSPOSES) {
      cases.push({ m, n, k, transA, transB, seed: 100 * s + cases.length, ...VARIANTS[v++ % VARIANTS.length] });
    }
  });
  // Every activation with pre, against beta 0 and 1, on one shape with edges in M, N and K.
  for (const activation of [0, 1, 2]) {
    for (const beta of [0, 1]) {
      cases.push({ m: 31, n: 47, k: 290, transB: true, bias: true, activation, beta, pre: true, seed: 7 });
    }
  }
  // The activation alone over a dense range: GELU's vectorised erf against std::erf.
  for (const activation of [1, 2]) cases.push({ m: 1, n: 20001, k: 1, sweep: 10, activation, pre: true, seed: 9 });
  return cases;
}

function expectWithinTolerance(results: GemmResult[], label: string): void {
  const failures = results.filter((r) => !(r.ratio <= 1));
  const describe = (r: GemmResult) =>
    `${label} ${r.m}x${r.n}x${r.k} trans ${r.transA ? 't' : 'n'}${r.transB ? 't' : 'n'} ` +
    `alpha ${r.alpha ?? 1} beta ${r.beta ?? 0} bias ${!!r.bias} act ${r.activation ?? 0}: ` +
    `${r.output}[${r.index}] = ${r.got}, reference ${r.want} (${r.ratio.toFixed(2)} x tolerance)`;
  expect(failures.map(describe)).toEqual([]);
}

describe('gemm against the reference', () => {
  it('matches on every shape, transpose, epilogue and activation on the default SIMD path', () => {
    const cases = gemmCases();
    const results = compareGemm(addon(), cases);
    expect(results).toHaveLength(cases.length);
    expectWithinTolerance(results, nativeInfo().isa);
  });

  const order = ['scalar', 'avx2', 'avx512'] as const;
  const best = order.indexOf(nativeInfo().isa);
  for (const isa of order) {
    const available = order.indexOf(isa) <= best;
    (available ? it : it.skip)(`matches on the ${isa} path (POSAPL_ISA=${isa}, in a child process)`, () => {
      const cases = gemmCases();
      const r = spawnSync(process.execPath, [path.join(__dirname, 'gemm.cases.js'), JSON.stringify(cases)], {
        // Two threads whatever the machine, so that the blocks the shapes aim at are the ones run.
        env: { ...process.env, POSAPL_ISA: isa, POSAPL_THREADS: '2' },
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { isa: string; results: GemmResult[] };
      expect(out.isa).toBe(isa);
      expect(out.results).toHaveLength(cases.length);
      expectWithinTolerance(out.results, isa);
    });
  }

  it('writes C through the typed wrapper exactly as the reference does for a small exact case', () => {
    // Integers small enough that every order of summation is exact.
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // (2,3)
    const w = Float32Array.from([1, 0, -1, 2, 1, 0]); // (2,3): a torch Linear weight, so op(B) = w^T
    const bias = Float32Array.from([1, -10]);
    const c = new Float32Array(4);
    const pre = new Float32Array(4);
    gemm({ c, a, b: w, m: 2, n: 2, k: 3, transB: true, bias, activation: 'relu', pre });
    expect(Array.from(pre)).toEqual([1 - 3 + 1, 2 + 2 - 10, 4 - 6 + 1, 8 + 5 - 10]);
    expect(Array.from(c)).toEqual([0, 0, 0, 3]);
    const cRef = new Float32Array(4);
    gemmReference({ c: cRef, a, b: w, m: 2, n: 2, k: 3, transB: true, bias, activation: 'relu' });
    expect(Array.from(cRef)).toEqual(Array.from(c));
  });
});

// ---- biasGrad and activationBackward -------------------------------------------------------

// erf in double: its Taylor series, accurate to ~1e-9 for |z| <= 4.5 (|x| <= 6.3 below).
function erf(z: number): number {
  let term = z;
  let sum = z;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17; n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const geluGrad = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

describe('biasGrad', () => {
  for (const accumulate of [false, true]) {
    it(`sums dy over rows${accumulate ? ' into db' : ''}`, () => {
      const M = 257;
      const N = 45;
      const dy = randomArray(M * N, 11);
      const db = randomArray(N, 12);
      const expected = Array.from(db, (start, n) => {
        let s = accumulate ? start : 0;
        for (let m = 0; m < M; m++) s += dy[m * N + n];
        return s;
      });
      biasGrad(db, dy, M, N, accumulate);
      // fp32 sums of M terms of size <= 1: (4 + sqrt(M)) * 1e-6 * M absolute.
      expectClose(db, expected, 0, (4 + Math.sqrt(M)) * 1e-6 * M);
    });
  }
});

describe('activationBackward', () => {
  const n = 1201;
  const pre = randomArray(n, 21).map((x) => x * 6); // (-6, 6): both tails of GELU
  const dy = randomArray(n, 22);

  it('passes dy through for none and masks it for relu', () => {
    const dx = new Float32Array(n);
    activationBackward(dx, dy, pre, n, 'none');
    expect(Array.from(dx)).toEqual(Array.from(dy));
    activationBackward(dx, dy, pre, n, 'relu');
    expect(Array.from(dx)).toEqual(Array.from(dy, (d, i) => (pre[i] > 0 ? d : 0)));
  });

  it('gives dy * GELU\'(pre) with the exact erf form', () => {
    const dx = new Float32Array(n);
    activationBackward(dx, dy, pre, n, 'gelu');
    // float32 Phi(x) = 0.5 (1 + erf) loses ~3e-8 absolute to cancellation in the left tail.
    expectClose(dx, Array.from(pre, (x, i) => dy[i] * geluGrad(x)), 1e-5, 1e-6);
  });

  it('agrees with a central difference of the GELU that gemm applies', () => {
    // L(x) = sum_i w_i gelu(x_i), gelu computed by gemm with K = 1 and op(A) = 1.
    const x = Float32Array.from([-4, -2.5, -1, -0.3, 0, 0.2, 0.7, 1.5, 3, 4.5]);
    const w = randomArray(x.length, 23);
    const one = new Float32Array([1]);
    const out = new Float32Array(x.length);
    const loss = () => {
      gemm({ c: out, a: one, b: x, m: 1, n: x.length, k: 1, activation: 'gelu' });
      let s = 0;
      for (let i = 0; i < out.length; i++) s += w[i] * out[i];
      return s;
    };
    const indices = sampleIndices(x.length, x.length, 24);
    const numeric = finiteDifference(x, indices, loss, 1e-2);
    const dx = new Float32Array(x.length);
    activationBackward(dx, w, x, x.length, 'gelu');
    // Central difference, h = 1e-2: truncation h^2/6 |gelu'''| <= 2e-5, rounding ~1e-5.
    expectClose(indices.map((i) => dx[i]), numeric, 1e-3, 1e-4);
  });
});

// ---- argument errors ---------------------------------------------------------------------

// The native functions take one object of named arguments; these tests corrupt one field at a time.
type Raw = (args?: unknown, ...rest: unknown[]) => unknown;
function raw(name: string): Raw {
  return (addon() as unknown as Record<string, Raw>)[name];
}
function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}
function expectError(fn: () => unknown, code: string, ...words: string[]): void {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  for (const w of words) expect(err.message).toContain(w);
}

describe('argument errors', () => {
  // gemm({c, pre, a, b, bias, m, n, k, transA, transB, alpha, beta, activation}), M=2 N=3 K=4.
  const gemmArgs = (): Record<string, unknown> => ({
    c: new Float32Array(6), pre: null, a: new Float32Array(8), b: new Float32Array(12), bias: null, m: 2, n: 3, k: 4,
    transA: false, transB: false, alpha: 1, beta: 0, activation: 0,
  });
  const withArg = (name: string, v: unknown) => ({ ...gemmArgs(), [name]: v });

  for (const name of ['gemm', 'gemmReference']) {
    describe(name, () => {
      const call = (args: unknown) => () => raw(name)(args);
      it('accepts the well-formed call these tests corrupt', () => {
        expect(call(gemmArgs())()).toBeUndefined();
      });
      it('rejects positional calls, missing and unknown names', () => {
        expectError(() => raw(name)(new Float32Array(6), null), 'POSAPL_ARGS', `posapl.${name}`,
          'Expected 1 argument (an object of named arguments) but received 2');
        expectError(call([new Float32Array(6)]), 'POSAPL_ARGS', 'Expected an object of named arguments', 'an Array');
        const missing = gemmArgs();
        delete missing.activation;
        expectError(call(missing), 'POSAPL_ARGS', 'Missing argument activation');
        const noA = gemmArgs();
        delete noA.a;
        expectError(call(noA), 'POSAPL_ARGS', 'Missing argument a', 'Float32Array of length 8 for a');
        expectError(call({ ...gemmArgs(), transpose: true }), 'POSAPL_ARGS', 'Unknown argument transpose');
      });
      it('rejects wrong typed-array kinds', () => {
        expectError(call(withArg('c', new Float64Array(6))), 'POSAPL_TYPE', 'for c', 'Float64Array');
        expectError(call(withArg('a', Array.from(new Float32Array(8)))), 'POSAPL_TYPE', 'for a', 'an Array');
        expectError(call(withArg('pre', new Int32Array(6))), 'POSAPL_TYPE', 'for pre');
        expectError(call(withArg('bias', 3)), 'POSAPL_TYPE', 'for bias');
      });
      it('rejects lengths that do not match the dimensions', () => {
        expectError(call(withArg('a', new Float32Array(7))), 'POSAPL_SHAPE', 'Float32Array of length 8 for a',
          'length 7');
        expectError(call(withArg('b', new Float32Array(13))), 'POSAPL_SHAPE', 'for b');
        expectError(call(withArg('bias', new Float32Array(2))), 'POSAPL_SHAPE', 'length 3 for bias');
        expectError(call(withArg('pre', new Float32Array(5))), 'POSAPL_SHAPE', 'for pre');
      });
      it('rejects non-positive or fractional dimensions and bad scalars', () => {
        expectError(call(withArg('m', 0)), 'POSAPL_SHAPE', 'for m');
        expectError(call(withArg('n', 1.5)), 'POSAPL_SHAPE', 'for n');
        expectError(call(withArg('k', -4)), 'POSAPL_SHAPE', 'for k');
        expectError(call(withArg('transA', 1)), 'POSAPL_TYPE', 'for transA');
        expectError(call(withArg('alpha', NaN)), 'POSAPL_TYPE', 'for alpha');
        expectError(call(withArg('activation', 3)), 'POSAPL_SHAPE', 'for activation');
      });
      it('rejects outputs that share memory with another argument', () => {
        const buf = new Float32Array(14);
        const args = withArg('c', buf.subarray(0, 6));
        args.a = buf.subarray(4, 12);
        expectError(() => raw(name)(args), 'POSAPL_ALIAS', 'Expected c not to share memory with a');
        args.a = new Float32Array(8);
        args.pre = buf.subarray(3, 9);
        expectError(() => raw(name)(args), 'POSAPL_ALIAS', 'Expected c not to share memory with pre');
      });
    });
  }

  it('rejects bad calls of gemm through the typed wrapper with the argument named', () => {
    expectError(() => gemm({ c: new Float32Array(6), a: new Float32Array(8), b: new Float32Array(12), m: 2, n: 3, k: 4,
      activation: 'tanh' as never }), 'POSAPL_TYPE', 'activation', 'tanh');
  });

  describe('biasGrad', () => {
    // biasGrad({db, dy, m, n, accumulate}), M=2 N=3
    const args = (): Record<string, unknown> => ({ db: new Float32Array(3), dy: new Float32Array(6), m: 2, n: 3, accumulate: false });
    const call = (name: string, v: unknown) => () => raw('biasGrad')({ ...args(), [name]: v });
    it('rejects each kind of wrong argument, naming it', () => {
      expectError(() => raw('biasGrad')(args(), 1), 'POSAPL_ARGS', 'Expected 1 argument (an object of named arguments) but received 2');
      expectError(call('db', new Float64Array(3)), 'POSAPL_TYPE', 'for db');
      expectError(call('dy', new Float32Array(5)), 'POSAPL_SHAPE', 'for dy');
      expectError(call('m', 0), 'POSAPL_SHAPE', 'for m');
      expectError(call('n', 2.5), 'POSAPL_SHAPE', 'for n');
      expectError(call('accumulate', 'yes'), 'POSAPL_TYPE', 'for accumulate');
      const buf = new Float32Array(8);
      expectError(() => raw('biasGrad')({ ...args(), db: buf.subarray(0, 3), dy: buf.subarray(2, 8) }), 'POSAPL_ALIAS',
        'Expected db not to share memory with dy');
    });
  });

  describe('activationBackward', () => {
    // activationBackward({dx, dy, pre, n, activation}), n=4
    const args = (): Record<string, unknown> => ({
      dx: new Float32Array(4), dy: new Float32Array(4), pre: new Float32Array(4), n: 4, activation: 2,
    });
    const call = (name: string, v: unknown) => () => raw('activationBackward')({ ...args(), [name]: v });
    it('rejects each kind of wrong argument, naming it', () => {
      const missing = args();
      delete missing.activation;
      expectError(() => raw('activationBackward')(missing), 'POSAPL_ARGS', 'Missing argument activation');
      expectError(call('dx', new Uint8Array(4)), 'POSAPL_TYPE', 'for dx');
      expectError(call('dy', new Float32Array(3)), 'POSAPL_SHAPE', 'for dy');
      expectError(call('pre', null), 'POSAPL_TYPE', 'for pre');
      expectError(call('n', 0), 'POSAPL_SHAPE', 'for n');
      expectError(call('activation', -1), 'POSAPL_SHAPE', 'for activation');
      const dx = new Float32Array(4);
      expectError(() => raw('activationBackward')({ ...args(), dx, dy: dx }), 'POSAPL_ALIAS',
        'Expected dx not to share memory with dy');
    });
  });
});
