// Every fused op on every SIMD path this CPU has, selected in process with addon.setIsa: the
// forward against float64 references, and each path's backward against the scalar path's.
// (LayerNorm, the SA-adapter and Side Fusion never ran per path before.)
import { addon } from '../../src/native/addon';
import type { IsaName } from '../../src/native/addonApi';
import { layerNormBackward, layerNormForward } from '../../src/ops/layernorm';
import { saAdapterBackward, saAdapterForward, saAdapterSizes, type SaAdapterParams } from '../../src/ops/saAdapter';
import { sideFusionBackward, sideFusionForward, sideFusionSizes, type SideFusionParams } from '../../src/ops/sideFusion';
import { saAdapterNaive, sideFusionNaive } from '../helpers/naiveAdapters';
import { expectClose, randomArray } from '../helpers/numeric';

const ORDER: IsaName[] = ['avx512', 'avx2', 'scalar'];
const supported = addon().info().supportedIsa;
const isas = ORDER.slice(ORDER.indexOf(supported));
const initial = addon().info().isa;

afterAll(() => {
  addon().setIsa({ isa: initial });
});

function onEachIsa<T>(run: () => T): Map<IsaName, T> {
  const results = new Map<IsaName, T>();
  for (const isa of isas) {
    expect(addon().setIsa({ isa })).toBe(isa);
    expect(addon().info().isa).toBe(isa);
    results.set(isa, run());
  }
  return results;
}

function layerNormNaive(x: Float32Array, w: Float32Array, b: Float32Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < c; j++) mean += x[i * c + j];
    mean /= c;
    let v = 0;
    for (let j = 0; j < c; j++) v += (x[i * c + j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / c + 1e-5);
    for (let j = 0; j < c; j++) out[i * c + j] = (x[i * c + j] - mean) * rstd * w[j] + b[j];
  }
  return out;
}

describe('ops on every SIMD path, selected in process', () => {
  it('setIsa caps at the CPU, names a bad path and reports the path in use', () => {
    expect(isas[isas.length - 1]).toBe('scalar');
    expect(addon().setIsa({ isa: 'scalar' })).toBe('scalar');
    expect(addon().setIsa({ isa: 'avx512' })).toBe(supported);
    let caught: { code?: string; message?: string } = {};
    try {
      addon().setIsa({ isa: 'sse' as IsaName });
    } catch (e) {
      caught = e as typeof caught;
    }
    expect(caught.code).toBe('POSAPL_TYPE');
    expect(caught.message).toContain("for isa but received 'sse'");
  });

  it('LayerNorm', () => {
    const n = 5, c = 37; // c: a full vector and a tail on both SIMD widths
    const x = randomArray(n * c, 1, 2), weight = randomArray(c, 2), bias = randomArray(c, 3), dout = randomArray(n * c, 4);
    const ref = layerNormNaive(x, weight, bias, n, c);
    const results = onEachIsa(() => {
      const out = new Float32Array(n * c), mean = new Float32Array(n), rstd = new Float32Array(n);
      layerNormForward({ out, mean, rstd, x, weight, bias, n, c });
      const dx = new Float32Array(n * c), dweight = new Float32Array(c), dbias = new Float32Array(c);
      layerNormBackward({ dx, dweight, dbias, dout, x, weight, mean, rstd, n, c });
      return { out, dx, dweight, dbias };
    });
    const scalar = results.get('scalar')!;
    for (const [isa, r] of results) {
      expectClose(r.out, ref, 1e-5, 1e-5, `out ${isa}`);
      expectClose(r.dx, scalar.dx, 1e-4, 1e-5, `dx ${isa}`);
      expectClose(r.dweight, scalar.dweight, 1e-4, 1e-5, `dweight ${isa}`);
      expectClose(r.dbias, scalar.dbias, 1e-4, 1e-5, `dbias ${isa}`);
    }
  });

  it('SA-adapter', () => {
    const d = { n: 2, l: 7, c: 24, r: 16, h: 4 };
    const params = (seed: number, scale: number): SaAdapterParams => ({
      wd: randomArray(d.r * d.c, seed, scale), bd: randomArray(d.r, seed + 1, scale),
      win: randomArray(3 * d.r * d.r, seed + 2, scale), bin: randomArray(3 * d.r, seed + 3, scale),
      wo: randomArray(d.r * d.r, seed + 4, scale), bo: randomArray(d.r, seed + 5, scale),
      wu: randomArray(d.c * d.r, seed + 6, scale), bu: randomArray(d.c, seed + 7, scale),
    });
    const p = params(10, 0.3);
    const m = randomArray(d.n * d.l * d.c, 1), dout = randomArray(d.n * d.l * d.c, 2);
    const ref = saAdapterNaive(m, p, d);
    const sizes = saAdapterSizes(d);
    const results = onEachIsa(() => {
      const out = new Float32Array(m.length), saved = new Float32Array(sizes.saved);
      saAdapterForward({ ...d, out, saved, m, params: p });
      const dm = new Float32Array(m.length), grads = params(0, 0);
      saAdapterBackward({ ...d, dm, grads, dout, m, params: p, saved });
      return { out, dm, grads };
    });
    const scalar = results.get('scalar')!;
    for (const [isa, r] of results) {
      expectClose(r.out, ref, 1e-4, 1e-5, `out ${isa}`);
      expectClose(r.dm, scalar.dm, 1e-4, 1e-5, `dm ${isa}`);
      for (const k of Object.keys(p) as (keyof SaAdapterParams)[]) expectClose(r.grads[k], scalar.grads[k], 1e-4, 1e-5, `d${k} ${isa}`);
    }
  });

  for (const variant of [{ chained: true, mean: true }, { chained: false, mean: false }]) {
    it(`Side Fusion (${variant.chained ? 'chained' : 'end-add'}, ${variant.mean ? 'mean' : 'per token'})`, () => {
      const d = { n: 2, l: 5, c: 20, ...variant };
      const t = d.n * d.l * d.c, cc = d.c * d.c;
      const params = (seed: number, scale: number): SideFusionParams => ({
        w1: randomArray(cc, seed, scale), b1: randomArray(d.c, seed + 1, scale), w2: randomArray(cc, seed + 2, scale),
        b2: randomArray(d.c, seed + 3, scale), w3: randomArray(cc, seed + 4, scale), b3: randomArray(d.c, seed + 5, scale),
        w4: randomArray(cc, seed + 6, scale), b4: randomArray(d.c, seed + 7, scale),
      });
      const p = params(20, 0.3);
      const taps = { f1: randomArray(t, 1), f2: randomArray(t, 2), f3: randomArray(t, 3), f4: d.chained ? randomArray(t, 4) : null };
      const rows = (d.mean ? d.n : d.n * d.l) * d.c;
      const ds4 = randomArray(rows, 5);
      const ref = sideFusionNaive({ ...taps, f4: taps.f4 ?? new Float32Array(t) }, p, d);
      const sizes = sideFusionSizes(d);
      const results = onEachIsa(() => {
        const s4 = new Float32Array(rows), saved = new Float32Array(sizes.saved);
        sideFusionForward({ ...d, s4, saved, taps, params: p });
        const dtaps = { df1: new Float32Array(t), df2: new Float32Array(t), df3: new Float32Array(t), df4: d.chained ? new Float32Array(t) : null };
        const grads = params(0, 0);
        sideFusionBackward({ ...d, dtaps, grads, ds4, taps, params: p, saved });
        return { s4, dtaps, grads };
      });
      const scalar = results.get('scalar')!;
      for (const [isa, r] of results) {
        expectClose(r.s4, ref, 1e-4, 1e-5, `s4 ${isa}`);
        for (const k of ['df1', 'df2', 'df3', 'df4'] as const) {
          if (r.dtaps[k]) expectClose(r.dtaps[k]!, scalar.dtaps[k]!, 1e-4, 1e-5, `${k} ${isa}`);
        }
        for (const k of Object.keys(p) as (keyof SideFusionParams)[]) expectClose(r.grads[k], scalar.grads[k], 1e-4, 1e-5, `d${k} ${isa}`);
      }
    });
  }
});
