/**
 * The fused adapter ops' tests' helpers: their float64 references (now the op harness's, in
 * src/opHarness/references.ts, re-exported here) and a finite-difference driver over every
 * element of named arrays.
 */
import { finiteDifference } from './numeric';

export {
  add, attention, linear, mlpAdapterNaive, relu, saAdapterNaive, sideFusionNaive, spread, tokenMean,
} from '../../src/opHarness/references';
export type { MlpDims, SaDims, SaParamsLike, SideDims, SideParamsLike } from '../../src/opHarness/references';

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
