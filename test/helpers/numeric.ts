/** Shared numeric helpers for tests: seeded random data, tolerant comparison, finite differences. */
import { SeededRandom } from '../../src/seededRandom';

/** The project's seeded generator as a function, so every test sees the same numbers. */
export function rng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.random();
}

/** n uniform values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Largest |a-b| / (atol/rtol + rtol*|b|)-style check; returns the worst index or -1. */
export function worstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const allowed = atol + rtol * Math.abs(expected[i]);
    if (!(err <= allowed)) {
      const excess = Number.isNaN(err) ? Infinity : err - allowed;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  return worst;
}

/** Jest-friendly assertion: throws with the worst element when arrays differ beyond tolerance. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, label = ''): void {
  const i = worstMismatch(actual, expected, rtol, atol);
  if (i >= 0) {
    throw new Error(
      `${label ? label + ': ' : ''}element ${i} is ${actual[i]} but expected ${expected[i]} ` +
        `(|diff| ${Math.abs(actual[i] - expected[i])}, rtol ${rtol}, atol ${atol}, length ${actual.length})`,
    );
  }
}

/**
 * Central finite difference of a scalar function of `x` (changed in place and restored),
 * in double precision around float32 storage: d f / d x[i] for the listed indices.
 */
export function finiteDifference(x: Float32Array | Float64Array, indices: number[], f: () => number, h = 1e-2): number[] {
  return indices.map((i) => {
    const saved = x[i];
    x[i] = saved + h;
    const up = f();
    x[i] = saved - h;
    const down = f();
    x[i] = saved;
    return (up - down) / (2 * h);
  });
}

/** Sum of a[i]*w[i] in double: the scalar loss L = <out, w> used by gradient checks. */
export { dot } from '../../src/opHarness/references';

/** A few spread-out indices into an array of length n, for finite-difference sampling. */
export function sampleIndices(n: number, count: number, seed: number): number[] {
  const r = rng(seed);
  const out = new Set<number>();
  while (out.size < Math.min(count, n)) out.add(Math.floor(r() * n));
  return [...out];
}
