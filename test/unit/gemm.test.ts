// GEMM, biasGrad and activationBackward values on every shape, epilogue and SIMD path, at 1 and 3
// threads, are the op harness's (test/unit/opHarness.test.ts); here: exact small cases and the
// argument errors of the native calls.
import { addon } from '../../src/native/addon';
import { activationBackward, gemm, gemmReference } from '../../src/ops/gemm';
import { randomArray } from '../helpers/numeric';

describe('gemm', () => {
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

describe('activationBackward', () => {
  it('passes dy through for none and masks it for relu, exactly', () => {
    const n = 1201;
    const pre = randomArray(n, 21, 6);
    const dy = randomArray(n, 22);
    const dx = new Float32Array(n);
    activationBackward(dx, dy, pre, n, 'none');
    expect(Array.from(dx)).toEqual(Array.from(dy));
    activationBackward(dx, dy, pre, n, 'relu');
    expect(Array.from(dx)).toEqual(Array.from(dy, (d, i) => (pre[i] > 0 ? d : 0)));
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
