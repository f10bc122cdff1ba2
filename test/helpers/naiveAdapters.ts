/**
 * Naive float64 references for the fused adapter ops (SA-adapter, MLP adapter, Side Fusion),
 * written as the plain composition of the spec's formulas, plus a finite-difference driver
 * over every element of named arrays. Used by the unit tests of those ops.
 */
import { finiteDifference } from './numeric';

type Vec = ArrayLike<number>;

/** y (rows,out) = x (rows,in) w^T + b with w (out,in). */
export function linear(x: Vec, w: Vec, b: Vec, rows: number, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i] * w[o * inDim + i];
      y[t * outDim + o] = s;
    }
  }
  return y;
}

export function relu(x: Float64Array): Float64Array {
  return x.map((v) => (v > 0 ? v : 0));
}

export function add(a: Vec, b: Vec): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** (N,C) mean over the L tokens of x (N,L,C). */
export function tokenMean(x: Vec, n: number, l: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < l; t++)
      for (let k = 0; k < c; k++) out[b * c + k] += x[(b * l + t) * c + k] / l;
  return out;
}

/** (N,L,C) copy of s (N,C) on every token. */
export function spread(s: Vec, n: number, l: number, c: number): Float64Array {
  const out = new Float64Array(n * l * c);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < l; t++)
      for (let k = 0; k < c; k++) out[(b * l + t) * c + k] = s[b * c + k];
  return out;
}

/** Unmasked multi-head attention of packed qkv (N,L,3R) -> (N,L,R), R = H*D, torch's scaling. */
export function attention(qkv: Vec, n: number, l: number, h: number, d: number): Float64Array {
  const r = h * d;
  const out = new Float64Array(n * l * r);
  const p = new Float64Array(l);
  for (let b = 0; b < n; b++) {
    for (let hh = 0; hh < h; hh++) {
      for (let i = 0; i < l; i++) {
        let mx = -Infinity;
        for (let j = 0; j < l; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += qkv[(b * l + i) * 3 * r + hh * d + k] * qkv[(b * l + j) * 3 * r + r + hh * d + k];
          p[j] = s / Math.sqrt(d);
          mx = Math.max(mx, p[j]);
        }
        let sum = 0;
        for (let j = 0; j < l; j++) sum += (p[j] = Math.exp(p[j] - mx));
        for (let k = 0; k < d; k++) {
          let o = 0;
          for (let j = 0; j < l; j++) o += (p[j] / sum) * qkv[(b * l + j) * 3 * r + 2 * r + hh * d + k];
          out[(b * l + i) * r + hh * d + k] = o;
        }
      }
    }
  }
  return out;
}

export interface SaDims { n: number; l: number; c: number; r: number; h: number }
export type SaParamsLike = Record<'wd' | 'bd' | 'win' | 'bin' | 'wo' | 'bo' | 'wu' | 'bu', Vec>;

/** The SA-adapter: Linear down, MHA over tokens plus residual, Linear up. */
export function saAdapterNaive(m: Vec, p: SaParamsLike, d: SaDims): Float64Array {
  const rows = d.n * d.l;
  const y = linear(m, p.wd, p.bd, rows, d.c, d.r);
  const qkv = linear(y, p.win, p.bin, rows, d.r, 3 * d.r);
  const att = attention(qkv, d.n, d.l, d.h, d.r / d.h);
  const a = add(linear(att, p.wo, p.bo, rows, d.r, d.r), y);
  return linear(a, p.wu, p.bu, rows, d.r, d.c);
}

export interface MlpDims { rows: number; c: number; r: number; cout: number }

/** The MLP adapter: Linear, ReLU, Linear. */
export function mlpAdapterNaive(x: Vec, p: Record<'w1' | 'b1' | 'w2' | 'b2', Vec>, d: MlpDims): Float64Array {
  return linear(relu(linear(x, p.w1, p.b1, d.rows, d.c, d.r)), p.w2, p.b2, d.rows, d.r, d.cout);
}

export interface SideDims { n: number; l: number; c: number; chained: boolean; mean: boolean }
export type SideParamsLike = Record<'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3' | 'w4' | 'b4', Vec>;

/** Side Fusion, written after the authors' module order (SL_k = Linear, ReLU, [token mean]). */
export function sideFusionNaive(f: Record<'f1' | 'f2' | 'f3' | 'f4', Vec>, p: SideParamsLike, d: SideDims): Float64Array {
  const { n, l, c } = d;
  const rows = n * l;
  const sl = (z: Vec, w: Vec, b: Vec): Float64Array => {
    const h = relu(linear(z, w, b, rows, c, c));
    return d.mean ? tokenMean(h, n, l, c) : h;
  };
  const widen = (s: Float64Array): Float64Array => (d.mean ? spread(s, n, l, c) : s);
  const s1 = sl(f.f1, p.w1, p.b1);
  let u: Float64Array;
  if (d.chained) {
    const s2 = sl(add(f.f2, widen(s1)), p.w2, p.b2);
    const s3 = sl(add(f.f3, widen(s2)), p.w3, p.b3);
    const z4 = add(f.f4, widen(s3));
    u = d.mean ? tokenMean(z4, n, l, c) : z4;
  } else {
    u = add(add(s1, sl(f.f2, p.w2, p.b2)), sl(f.f3, p.w3, p.b3));
  }
  return linear(u, p.w4, p.b4, d.mean ? n : rows, c, c);
}

/**
 * Central finite differences of the scalar f over every element (or the listed elements) of
 * each named float64 array, changed in place and restored.
 */
export function finiteDifferences(
  arrays: Record<string, Float64Array>, f: () => number, h = 1e-6, only?: Record<string, number[]>,
): Record<string, Map<number, number>> {
  const out: Record<string, Map<number, number>> = {};
  for (const [name, x] of Object.entries(arrays)) {
    const indices = only?.[name] ?? [...x.keys()];
    const grads = finiteDifference(x, indices, f, h);
    out[name] = new Map(indices.map((i, k) => [i, grads[k]]));
  }
  return out;
}

/** Float64 copies of named float32 arrays, for the references and finite differences. */
export function toFloat64<K extends string>(arrays: Record<K, Float32Array>): Record<K, Float64Array> {
  return Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, Float64Array.from(v as Float32Array)])) as Record<
    K, Float64Array
  >;
}

/** Runs fn and checks it throws an Error with `code` whose message names `argument`. */
export function expectArgError(fn: () => void, code: string, argument: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected ${code} naming ${argument}, but the call succeeded`);
  const err = caught as { code?: string; message?: string };
  expect(err.code).toBe(code);
  expect(err.message).toMatch(new RegExp(`(^|[^A-Za-z0-9_])${argument}([^A-Za-z0-9_]|$)`));
}

/** An object with one Float32Array per key, made by f (parameter sets and their gradients). */
export function arraysByKey<K extends string>(keys: readonly K[], f: (key: K, index: number) => Float32Array): Record<K, Float32Array> {
  return Object.fromEntries(keys.map((k, i) => [k, f(k, i)])) as Record<K, Float32Array>;
}
