/**
 * The fused MLP adapter (Linear, ReLU, Linear): forward against a naive float64 composition;
 * every gradient against central finite differences of it (h 1e-6, float64) on every element
 * of x and of every parameter; accumulation (+=); argument errors. Tolerances: forward
 * rtol 1e-5 / atol 1e-6, gradients rtol 1e-4 / atol 1e-5.
 */
import { dot, expectClose, randomArray } from '../helpers/numeric';
import { arraysByKey, expectArgError, finiteDifferences, mlpAdapterNaive, MlpDims, toFloat64 } from '../helpers/naiveAdapters';
import { mlpAdapterBackward, mlpAdapterForward, mlpAdapterSizes, MlpAdapterParams } from '../../src/ops';

const KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

function makeParams(d: MlpDims, seed: number, scale = 0.5): MlpAdapterParams {
  return {
    w1: randomArray(d.r * d.c, seed, scale), b1: randomArray(d.r, seed + 1, scale),
    w2: randomArray(d.cout * d.r, seed + 2, scale), b2: randomArray(d.cout, seed + 3, scale),
  };
}

function zerosLike(p: MlpAdapterParams): MlpAdapterParams {
  return arraysByKey(KEYS, (k) => new Float32Array(p[k].length));
}

function forward(d: MlpDims, x: Float32Array, params: MlpAdapterParams): { out: Float32Array; saved: Float32Array } {
  const out = new Float32Array(d.rows * d.cout);
  const saved = new Float32Array(mlpAdapterSizes(d).saved);
  mlpAdapterForward({ ...d, out, saved, x, params });
  return { out, saved };
}

describe('mlpAdapterForward', () => {
  it.each([
    [{ rows: 4, c: 5, r: 3, cout: 6 }],
    [{ rows: 77, c: 64, r: 16, cout: 64 }],
  ])('matches the naive composition at %j', (d) => {
    const x = randomArray(d.rows * d.c, 1);
    const params = makeParams(d, 10);
    expectClose(forward(d, x, params).out, mlpAdapterNaive(x, params, d), 1e-5, 1e-6, 'out');
  });
});

describe('mlpAdapterBackward', () => {
  const d: MlpDims = { rows: 4, c: 5, r: 3, cout: 6 };

  it('matches finite differences on every element of x and every parameter, accumulating', () => {
    const x = randomArray(d.rows * d.c, 2);
    const params = makeParams(d, 20);
    const dout = randomArray(d.rows * d.cout, 3);
    const { saved } = forward(d, x, params);
    const prefill = makeParams(d, 30, 1);
    const grads = arraysByKey(KEYS, (k) => prefill[k].slice());
    const dx = new Float32Array(x.length);
    mlpAdapterBackward({ ...d, dx, grads, dout, x, params, saved });

    const x64 = toFloat64({ x, ...params });
    const fd = finiteDifferences(x64, () => dot(mlpAdapterNaive(x64.x, x64, d), dout));
    expectClose(dx, [...fd.x.values()], 1e-4, 1e-5, 'dx');
    for (const k of KEYS) {
      expectClose(grads[k], [...fd[k].values()].map((g, i) => g + prefill[k][i]), 1e-4, 1e-5, `d${k}`);
    }
  });

  it('gives the same parameter gradients without dx and leaves saved intact', () => {
    const x = randomArray(d.rows * d.c, 4);
    const params = makeParams(d, 40);
    const dout = randomArray(d.rows * d.cout, 5);
    const { saved } = forward(d, x, params);
    const savedCopy = saved.slice();
    const withDx = zerosLike(params);
    mlpAdapterBackward({ ...d, dx: new Float32Array(x.length), grads: withDx, dout, x, params, saved });
    const withoutDx = zerosLike(params);
    mlpAdapterBackward({ ...d, grads: withoutDx, dout, x, params, saved, scratch: new Float32Array(mlpAdapterSizes(d).scratch) });
    for (const k of KEYS) expect(Array.from(withoutDx[k])).toEqual(Array.from(withDx[k]));
    expect(Array.from(saved)).toEqual(Array.from(savedCopy));
  });

  it('with a zero-initialised second Linear outputs exactly zero and trains only that Linear', () => {
    const x = randomArray(d.rows * d.c, 6);
    const params = makeParams(d, 50);
    params.w2.fill(0);
    params.b2.fill(0);
    const { out, saved } = forward(d, x, params);
    expect(out.every((v) => v === 0)).toBe(true);
    const grads = zerosLike(params);
    mlpAdapterBackward({ ...d, grads, dout: randomArray(d.rows * d.cout, 7), x, params, saved });
    expect(grads.w1.every((v) => v === 0) && grads.b1.every((v) => v === 0)).toBe(true);
    expect(grads.b2.some((v) => v !== 0)).toBe(true);
  });
});

describe('MLP adapter argument errors', () => {
  const d: MlpDims = { rows: 4, c: 5, r: 3, cout: 6 };
  const x = randomArray(d.rows * d.c, 8);
  const params = makeParams(d, 60);
  const sizes = mlpAdapterSizes(d);
  const fwd = () => ({ ...d, out: new Float32Array(d.rows * d.cout), saved: new Float32Array(sizes.saved), x, params });
  const bwd = () => ({
    ...d, dx: new Float32Array(x.length), grads: zerosLike(params), dout: randomArray(d.rows * d.cout, 9), x, params,
    saved: new Float32Array(sizes.saved), scratch: new Float32Array(sizes.scratch),
  });

  it('mlpAdapterForward rejects a wrong kind, length, dimension and an aliased output', () => {
    expectArgError(() => mlpAdapterForward({ ...fwd(), x: new Float64Array(x.length) as never }), 'POSAPL_TYPE', 'x');
    expectArgError(() => mlpAdapterForward({ ...fwd(), params: { ...params, b2: new Float32Array(d.cout + 1) } }), 'POSAPL_SHAPE', 'b2');
    expectArgError(() => mlpAdapterForward({ ...fwd(), cout: 0 }), 'POSAPL_SHAPE', 'cout');
    expectArgError(() => mlpAdapterForward({ ...fwd(), rows: 1.5 }), 'POSAPL_SHAPE', 'rows');
    const a = fwd();
    expectArgError(() => mlpAdapterForward({ ...a, saved: a.params.w1.subarray(0, sizes.saved) }), 'POSAPL_ALIAS', 'saved');
  });

  it('mlpAdapterBackward rejects a wrong kind, length, dimension and an aliased output', () => {
    expectArgError(() => mlpAdapterBackward({ ...bwd(), saved: [] as never }), 'POSAPL_TYPE', 'saved');
    expectArgError(() => mlpAdapterBackward({ ...bwd(), dx: new Float32Array(3) }), 'POSAPL_SHAPE', 'dx');
    expectArgError(() => mlpAdapterBackward({ ...bwd(), r: -3 }), 'POSAPL_SHAPE', 'r');
    expectArgError(() => mlpAdapterBackward({ ...bwd(), c: '5' as never }), 'POSAPL_TYPE', 'c');
    const b = bwd();
    expectArgError(() => mlpAdapterBackward({ ...b, scratch: b.grads.w1.subarray(0, sizes.scratch) }), 'POSAPL_ALIAS', 'scratch');
  });
});
