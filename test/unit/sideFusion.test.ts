/**
 * Side Fusion, chained and end-add, with the token mean (vision) and without (text): forward
 * against a naive float64 composition in the authors' module order; every gradient against
 * central finite differences of it (h 1e-6, float64) on every element of every tap and
 * parameter; accumulation (+=); the text variant's per-token independence; argument errors.
 * Tolerances: forward rtol 1e-5 / atol 1e-6, gradients rtol 1e-4 / atol 1e-5.
 */
import { dot, expectClose, randomArray } from '../helpers/numeric';
import { arraysByKey, expectArgError, finiteDifferences, SideDims, sideFusionNaive, toFloat64 } from '../helpers/naiveAdapters';
import { sideFusionBackward, sideFusionForward, sideFusionSizes, SideFusionParams } from '../../src/ops';

const KEYS = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3', 'w4', 'b4'] as const;
type Taps = { f1: Float32Array; f2: Float32Array; f3: Float32Array; f4: Float32Array };

/** Weights ~ U(-1,1)/sqrt(C) keep every stage O(1), so float32 rounding stays near 1e-7 relative. */
function makeParams(c: number, seed: number, scale = 1 / Math.sqrt(c)): SideFusionParams {
  return arraysByKey(KEYS, (k, i) => randomArray(k.startsWith('w') ? c * c : c, seed + i, scale));
}

function zerosLike(p: SideFusionParams): SideFusionParams {
  return arraysByKey(KEYS, (k) => new Float32Array(p[k].length));
}

function makeTaps(d: SideDims, seed: number): Taps {
  const len = d.n * d.l * d.c;
  return { f1: randomArray(len, seed), f2: randomArray(len, seed + 1), f3: randomArray(len, seed + 2), f4: randomArray(len, seed + 3) };
}

const s4Length = (d: SideDims) => (d.mean ? d.n : d.n * d.l) * d.c;

function forward(d: SideDims, taps: Taps, params: SideFusionParams): { s4: Float32Array; saved: Float32Array } {
  const s4 = new Float32Array(s4Length(d));
  const saved = new Float32Array(sideFusionSizes(d).saved);
  sideFusionForward({ ...d, s4, saved, taps: { ...taps, f4: d.chained ? taps.f4 : null }, params });
  return { s4, saved };
}

const VARIANTS = [
  ['vision chained', { chained: true, mean: true }],
  ['vision end-add', { chained: false, mean: true }],
  ['text chained', { chained: true, mean: false }],
  ['text end-add', { chained: false, mean: false }],
] as const;

describe.each(VARIANTS)('Side Fusion, %s', (_name, variant) => {
  const d: SideDims = { n: 2, l: 3, c: 4, ...variant };

  it.each([[{ n: 2, l: 3, c: 4 }], [{ n: 4, l: 50, c: 32 }]])('forward matches the naive composition at %j', (shape) => {
    const dd = { ...shape, ...variant };
    const taps = makeTaps(dd, 1);
    const params = makeParams(dd.c, 10);
    expectClose(forward(dd, taps, params).s4, sideFusionNaive(taps, params, dd), 1e-5, 1e-6, 's4');
  });

  it('backward matches finite differences on every element of every tap and parameter, accumulating', () => {
    const taps = makeTaps(d, 2);
    const params = makeParams(d.c, 20);
    const ds4 = randomArray(s4Length(d), 6);
    const { saved } = forward(d, taps, params);
    const prefill = makeParams(d.c, 30, 1);
    const grads = arraysByKey(KEYS, (k) => prefill[k].slice());
    const len = taps.f1.length;
    const dtaps = {
      df1: new Float32Array(len), df2: new Float32Array(len), df3: new Float32Array(len),
      df4: d.chained ? new Float32Array(len) : null,
    };
    sideFusionBackward({ ...d, dtaps, grads, ds4, taps, params, saved });

    const x64 = toFloat64({ ...taps, ...params });
    const fd = finiteDifferences(x64, () => dot(sideFusionNaive(x64, x64, d), ds4));
    for (const k of ['f1', 'f2', 'f3', 'f4'] as const) {
      const got = dtaps[`d${k}`];
      if (got === null) expect([...fd.f4.values()].every((g) => g === 0)).toBe(true);  // end-add ignores f4
      else expectClose(got, [...fd[k].values()], 1e-4, 1e-5, `d${k}`);
    }
    for (const k of KEYS) {
      expectClose(grads[k], [...fd[k].values()].map((g, i) => g + prefill[k][i]), 1e-4, 1e-5, `d${k}`);
    }
  });

  it('gives the same parameter gradients with no tap gradients requested and leaves saved intact', () => {
    const taps = makeTaps(d, 3);
    const params = makeParams(d.c, 40);
    const ds4 = randomArray(s4Length(d), 7);
    const { saved } = forward(d, taps, params);
    const savedCopy = saved.slice();
    const len = taps.f1.length;
    const all = zerosLike(params);
    const dtaps = {
      df1: new Float32Array(len), df2: new Float32Array(len), df3: new Float32Array(len),
      df4: d.chained ? new Float32Array(len) : null,
    };
    sideFusionBackward({ ...d, dtaps, grads: all, ds4, taps, params, saved });
    const none = zerosLike(params);
    sideFusionBackward({ ...d, dtaps: {}, grads: none, ds4, taps, params, saved, scratch: new Float32Array(sideFusionSizes(d).scratch) });
    for (const k of KEYS) expect(Array.from(none[k])).toEqual(Array.from(all[k]));
    expect(Array.from(saved)).toEqual(Array.from(savedCopy));
  });

  it('with the zero-initialised Linear_4 outputs exactly zero and trains only Linear_4', () => {
    const taps = makeTaps(d, 4);
    const params = makeParams(d.c, 50);
    params.w4.fill(0);
    params.b4.fill(0);
    const { s4, saved } = forward(d, taps, params);
    expect(s4.every((v) => v === 0)).toBe(true);
    const grads = zerosLike(params);
    sideFusionBackward({ ...d, dtaps: {}, grads, ds4: randomArray(s4.length, 8), taps, params, saved });
    for (const k of ['w1', 'b1', 'w2', 'b2', 'w3', 'b3'] as const) expect(grads[k].every((v) => v === 0)).toBe(true);
    expect(grads.b4.some((v) => v !== 0)).toBe(true);
  });
});

describe('Side Fusion without the mean is per token', () => {
  it.each([[true], [false]])('chained=%s: (N,L,C) gives the rows of N*L calls with L = 1', (chained) => {
    const d: SideDims = { n: 2, l: 3, c: 4, chained, mean: false };
    const taps = makeTaps(d, 9);
    const params = makeParams(d.c, 60);
    const whole = forward(d, taps, params).s4;
    for (let t = 0; t < d.n * d.l; t++) {
      const row = (f: Float32Array) => f.slice(t * d.c, (t + 1) * d.c);
      const one = forward({ ...d, n: 1, l: 1 }, { f1: row(taps.f1), f2: row(taps.f2), f3: row(taps.f3), f4: row(taps.f4) }, params).s4;
      expectClose(one, row(whole), 1e-6, 1e-7, `token ${t}`);
    }
  });
});

describe('Side Fusion argument errors', () => {
  const d: SideDims = { n: 2, l: 3, c: 4, chained: true, mean: true };
  const taps = makeTaps(d, 11);
  const params = makeParams(d.c, 70);
  const sizes = sideFusionSizes(d);
  const fwd = () => ({ ...d, s4: new Float32Array(d.n * d.c), saved: new Float32Array(sizes.saved), taps, params });
  const bwd = () => ({
    ...d, dtaps: { df1: new Float32Array(taps.f1.length) }, grads: zerosLike(params), ds4: randomArray(d.n * d.c, 12),
    taps, params, saved: new Float32Array(sizes.saved), scratch: new Float32Array(sizes.scratch),
  });

  it('sideFusionForward rejects a wrong kind, length, dimension, an aliased output and f4 for end-add', () => {
    expectArgError(() => sideFusionForward({ ...fwd(), taps: { ...taps, f2: new Float64Array(taps.f2.length) as never } }), 'POSAPL_TYPE', 'f2');
    expectArgError(() => sideFusionForward({ ...fwd(), params: { ...params, w3: params.w3.subarray(2) } }), 'POSAPL_SHAPE', 'w3');
    expectArgError(() => sideFusionForward({ ...fwd(), taps: { ...taps, f4: null } }), 'POSAPL_TYPE', 'f4');
    expectArgError(() => sideFusionForward({ ...fwd(), s4: new Float32Array(d.n * d.l * d.c) }), 'POSAPL_SHAPE', 's4');
    expectArgError(() => sideFusionForward({ ...fwd(), n: 0 }), 'POSAPL_SHAPE', 'n');
    expectArgError(() => sideFusionForward({ ...fwd(), l: 0.5 }), 'POSAPL_SHAPE', 'l');
    expectArgError(() => sideFusionForward({ ...fwd(), mean: 1 as never }), 'POSAPL_TYPE', 'mean');
    expectArgError(
      () => sideFusionForward({ ...fwd(), chained: false, saved: new Float32Array(sideFusionSizes({ ...d, chained: false }).saved) }),
      'POSAPL_TYPE', 'f4',
    );
    const a = fwd();
    expectArgError(() => sideFusionForward({ ...a, s4: a.taps.f3.subarray(0, d.n * d.c) }), 'POSAPL_ALIAS', 's4');
  });

  it('sideFusionBackward rejects a wrong kind, length, dimension, an aliased output and df4 for end-add', () => {
    expectArgError(() => sideFusionBackward({ ...bwd(), ds4: new Uint8Array(d.n * d.c) as never }), 'POSAPL_TYPE', 'ds4');
    expectArgError(() => sideFusionBackward({ ...bwd(), grads: { ...zerosLike(params), b4: new Float32Array(d.c - 1) } }), 'POSAPL_SHAPE', 'db4');
    expectArgError(() => sideFusionBackward({ ...bwd(), saved: new Float32Array(sizes.saved + 4) }), 'POSAPL_SHAPE', 'saved');
    expectArgError(() => sideFusionBackward({ ...bwd(), c: -4 }), 'POSAPL_SHAPE', 'c');
    expectArgError(() => sideFusionBackward({ ...bwd(), n: Infinity }), 'POSAPL_SHAPE', 'n');
    const endAdd = { ...d, chained: false };
    expectArgError(
      () => sideFusionBackward({
        ...bwd(), ...endAdd, saved: new Float32Array(sideFusionSizes(endAdd).saved), dtaps: { df4: new Float32Array(taps.f1.length) },
      }),
      'POSAPL_TYPE', 'df4',
    );
    const b = bwd();
    expectArgError(() => sideFusionBackward({ ...b, dtaps: { df1: b.dtaps.df1, df2: b.dtaps.df1 } }), 'POSAPL_ALIAS', 'df1');
  });
});
