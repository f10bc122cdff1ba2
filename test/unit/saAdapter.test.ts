/**
 * The fused SA-adapter: forward against a naive float64 composition (Linear, MHA without mask
 * plus residual, Linear); every gradient against central finite differences of that composition
 * (h 1e-6, float64) on every element of every parameter and input; accumulation (+=); the
 * zero-initialised up-projection; argument errors. Tolerances: forward rtol 1e-5 / atol 1e-6,
 * gradients rtol 1e-4 / atol 1e-5.
 */
import { dot, expectClose, randomArray, sampleIndices } from '../helpers/numeric';
import {
  arraysByKey, expectArgError, finiteDifferences, saAdapterNaive, SaDims, toFloat64,
} from '../helpers/naiveAdapters';
import { saAdapterBackward, saAdapterForward, saAdapterSizes, SaAdapterParams } from '../../src/ops';

const KEYS = ['wd', 'bd', 'win', 'bin', 'wo', 'bo', 'wu', 'bu'] as const;

function makeParams(d: SaDims, seed: number, scale = 0.4): SaAdapterParams {
  const shapes: Record<(typeof KEYS)[number], number> = {
    wd: d.r * d.c, bd: d.r, win: 3 * d.r * d.r, bin: 3 * d.r, wo: d.r * d.r, bo: d.r, wu: d.c * d.r, bu: d.c,
  };
  return arraysByKey(KEYS, (k, i) => randomArray(shapes[k], seed + i, scale));
}

function zerosLike(p: SaAdapterParams): SaAdapterParams {
  return arraysByKey(KEYS, (k) => new Float32Array(p[k].length));
}

function forward(d: SaDims, m: Float32Array, params: SaAdapterParams): { out: Float32Array; saved: Float32Array } {
  const out = new Float32Array(d.n * d.l * d.c);
  const saved = new Float32Array(saAdapterSizes(d).saved);
  saAdapterForward({ ...d, out, saved, m, params });
  return { out, saved };
}

describe('saAdapterForward', () => {
  it.each([
    [{ n: 2, l: 3, c: 5, r: 4, h: 2 }],
    [{ n: 3, l: 20, c: 48, r: 32, h: 8 }],
  ])('matches the naive composition at %j', (d) => {
    const m = randomArray(d.n * d.l * d.c, 1);
    const params = makeParams(d, 10);
    const { out } = forward(d, m, params);
    expectClose(out, saAdapterNaive(m, params, d), 1e-5, 1e-6, 'out');
  });
});

describe('saAdapterBackward', () => {
  const d: SaDims = { n: 2, l: 3, c: 5, r: 4, h: 2 };

  it('matches finite differences on every element of m and every parameter, accumulating', () => {
    const m = randomArray(d.n * d.l * d.c, 2);
    const params = makeParams(d, 20);
    const dout = randomArray(d.n * d.l * d.c, 3);
    const { saved } = forward(d, m, params);
    // Prefilled gradients show the backward adds (+=) rather than overwrites.
    const prefill = makeParams(d, 40, 1);
    const grads = arraysByKey(KEYS, (k) => prefill[k].slice());
    const dm = new Float32Array(m.length);
    saAdapterBackward({ ...d, dm, grads, dout, m, params, saved });

    const x64 = toFloat64({ m, ...params });
    const fd = finiteDifferences(x64, () => dot(saAdapterNaive(x64.m, x64, d), dout));
    expectClose(dm, [...fd.m.values()], 1e-4, 1e-5, 'dm');
    for (const k of KEYS) {
      const expected = [...fd[k].values()].map((g, i) => g + prefill[k][i]);
      expectClose(grads[k], expected, 1e-4, 1e-5, `d${k}`);
    }
  });

  it('matches finite differences at a multi-threaded size (sampled elements)', () => {
    const big: SaDims = { n: 3, l: 20, c: 48, r: 32, h: 8 };
    const m = randomArray(big.n * big.l * big.c, 4);
    const params = makeParams(big, 50, 0.2);
    const dout = randomArray(m.length, 5);
    const { saved } = forward(big, m, params);
    const grads = zerosLike(params);
    const dm = new Float32Array(m.length);
    saAdapterBackward({ ...big, dm, grads, dout, m, params, saved });
    const x64 = toFloat64({ m, ...params });
    const only = Object.fromEntries(Object.entries(x64).map(([k, v], i) => [k, sampleIndices(v.length, 6, 60 + i)]));
    const fd = finiteDifferences(x64, () => dot(saAdapterNaive(x64.m, x64, big), dout), 1e-6, only);
    const actual: Record<string, Float32Array> = { m: dm, ...grads };
    for (const [k, g] of Object.entries(fd)) {
      expectClose([...g.keys()].map((i) => actual[k][i]), [...g.values()], 1e-4, 1e-5, `d${k}`);
    }
  });

  it('gives the same parameter gradients without dm and leaves saved intact', () => {
    const m = randomArray(d.n * d.l * d.c, 6);
    const params = makeParams(d, 70);
    const dout = randomArray(m.length, 7);
    const { saved } = forward(d, m, params);
    const savedCopy = saved.slice();
    const withDm = zerosLike(params);
    saAdapterBackward({ ...d, dm: new Float32Array(m.length), grads: withDm, dout, m, params, saved });
    const withoutDm = zerosLike(params);
    saAdapterBackward({ ...d, grads: withoutDm, dout, m, params, saved, scratch: new Float32Array(saAdapterSizes(d).scratch) });
    for (const k of KEYS) expect(Array.from(withoutDm[k])).toEqual(Array.from(withDm[k]));
    expect(Array.from(saved)).toEqual(Array.from(savedCopy));
  });
});

describe('SA-adapter with the zero-initialised up projection (spec section 5)', () => {
  const d: SaDims = { n: 2, l: 6, c: 12, r: 8, h: 2 };
  const m = randomArray(d.n * d.l * d.c, 8);
  const dout = randomArray(m.length, 9);

  it('outputs exactly zero, and in_proj_bias (its key part included) gets an exactly zero gradient', () => {
    const params = makeParams(d, 80);
    params.wu.fill(0);
    params.bu.fill(0);
    const { out, saved } = forward(d, m, params);
    expect(out.every((v) => v === 0)).toBe(true);
    const grads = zerosLike(params);
    saAdapterBackward({ ...d, dm: new Float32Array(m.length), grads, dout, m, params, saved });
    expect(grads.bin.every((v) => v === 0)).toBe(true);
    // Only the up projection learns at the first step: dbu = sum of dout over tokens.
    const dbu = new Float64Array(d.c);
    for (let t = 0; t < d.n * d.l; t++) for (let k = 0; k < d.c; k++) dbu[k] += dout[t * d.c + k];
    expectClose(grads.bu, dbu, 1e-5, 1e-6, 'dbu');
    expect(grads.wu.some((v) => v !== 0)).toBe(true);
  });

  it('gives the key part of in_proj_bias a zero gradient up to rounding once wu is trained', () => {
    const params = makeParams(d, 90);
    const { saved } = forward(d, m, params);
    const grads = zerosLike(params);
    saAdapterBackward({ ...d, grads, dout, m, params, saved });
    const maxAbs = (a: Float32Array) => a.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    const query = maxAbs(grads.bin.subarray(0, d.r));
    const key = maxAbs(grads.bin.subarray(d.r, 2 * d.r));
    const value = maxAbs(grads.bin.subarray(2 * d.r));
    expect(query).toBeGreaterThan(1e-3);
    expect(value).toBeGreaterThan(1e-3);
    expect(key).toBeLessThan(1e-5 * Math.max(query, value));
  });
});

describe('SA-adapter argument errors', () => {
  const d: SaDims = { n: 2, l: 3, c: 5, r: 4, h: 2 };
  const m = randomArray(d.n * d.l * d.c, 10);
  const params = makeParams(d, 100);
  const sizes = saAdapterSizes(d);
  const fwd = () => ({ ...d, out: new Float32Array(m.length), saved: new Float32Array(sizes.saved), m, params });
  const bwd = () => ({
    ...d, dm: new Float32Array(m.length), grads: zerosLike(params), dout: randomArray(m.length, 11), m, params,
    saved: new Float32Array(sizes.saved), scratch: new Float32Array(sizes.scratch),
  });

  it('saAdapterForward rejects a wrong kind, length, dimension and an aliased output', () => {
    expectArgError(() => saAdapterForward({ ...fwd(), m: new Float64Array(m.length) as never }), 'POSAPL_TYPE', 'm');
    expectArgError(() => saAdapterForward({ ...fwd(), params: { ...params, win: params.win.subarray(1) } }), 'POSAPL_SHAPE', 'win');
    expectArgError(() => saAdapterForward({ ...fwd(), saved: new Float32Array(sizes.saved - 1) }), 'POSAPL_SHAPE', 'saved');
    expectArgError(() => saAdapterForward({ ...fwd(), l: 0 }), 'POSAPL_SHAPE', 'l');
    expectArgError(() => saAdapterForward({ ...fwd(), c: 2.5 }), 'POSAPL_SHAPE', 'c');
    expectArgError(() => saAdapterForward({ ...fwd(), h: 3 }), 'POSAPL_SHAPE', 'h');
    const a = fwd();
    expectArgError(() => saAdapterForward({ ...a, out: a.m }), 'POSAPL_ALIAS', 'out');
  });

  it('saAdapterBackward rejects a wrong kind, length, dimension and an aliased output', () => {
    expectArgError(() => saAdapterBackward({ ...bwd(), dout: new Int32Array(m.length) as never }), 'POSAPL_TYPE', 'dout');
    expectArgError(() => saAdapterBackward({ ...bwd(), grads: { ...zerosLike(params), bo: new Float32Array(1) } }), 'POSAPL_SHAPE', 'dbo');
    expectArgError(() => saAdapterBackward({ ...bwd(), scratch: new Float32Array(sizes.scratch + 1) }), 'POSAPL_SHAPE', 'scratch');
    expectArgError(() => saAdapterBackward({ ...bwd(), n: -1 }), 'POSAPL_SHAPE', 'n');
    expectArgError(() => saAdapterBackward({ ...bwd(), r: Number.NaN }), 'POSAPL_SHAPE', 'r');
    const b = bwd();
    expectArgError(() => saAdapterBackward({ ...b, dm: b.dout }), 'POSAPL_ALIAS', 'dm');
    const shared = new Float32Array(2 * d.r * d.c);
    expectArgError(
      () => saAdapterBackward({ ...b, grads: { ...b.grads, wd: shared.subarray(0, d.r * d.c), bd: shared.subarray(2, 2 + d.r) } }),
      'POSAPL_ALIAS', 'dwd',
    );
  });
});
