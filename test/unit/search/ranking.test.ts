/** Exact top-k (fp32 and bf16 GEMM), the heap selection and HNSW against a brute-force reference. */
import { bf16Available } from '../../../src/ops/gemmBf16';
import { ExactSearch } from '../../../src/search/exactSearch';
import { toHalf } from '../../../src/search/float16';
import { HnswSearch, usearchAvailable } from '../../../src/search/hnswSearch';
import { topK } from '../../../src/search/topK';
import { toFloat32 } from '../../../src/io';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function unitRows(n: number, dim: number, seed: number): Float32Array {
  const r = seeded(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += (out[i * dim + j] = r()) ** 2;
    for (let j = 0; j < dim; j++) out[i * dim + j] /= Math.sqrt(sum);
  }
  return out;
}

/** Scores in float64 and a full sort: the reference. */
function bruteForce(rows: Float32Array, n: number, dim: number, q: Float32Array, k: number): { index: number; score: number }[] {
  const all = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j] * q[j];
    return { index: i, score: s };
  });
  return all.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

describe('topK', () => {
  it('selects the k highest, best first, ties by lower index, NaN never', () => {
    const scores = Float32Array.from([0.5, 0.9, NaN, 0.9, -1, 0.7, 0.5]);
    expect(topK(scores, 7, 4)).toEqual([
      { index: 1, score: scores[1] }, { index: 3, score: scores[3] }, { index: 5, score: scores[5] }, { index: 0, score: scores[0] },
    ]);
    expect(topK(scores, 7, 100).map((s) => s.index)).toEqual([1, 3, 5, 0, 6, 4]);
    expect(topK(scores, 0, 3)).toEqual([]);
  });

  it('matches a full sort on random scores', () => {
    const r = seeded(3);
    const scores = Float32Array.from({ length: 5000 }, () => Math.round(r() * 200) / 100);
    const reference = Array.from(scores, (score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
    for (const k of [1, 10, 137]) expect(topK(scores, scores.length, k)).toEqual(reference.slice(0, k));
  });
});

describe('ExactSearch', () => {
  const n = 3000, dim = 48;
  const rows = unitRows(n, dim, 11);
  const queries = unitRows(5, dim, 12);

  it('fp32 ranks exactly as brute force with the same scores', () => {
    const search = new ExactSearch(rows, n, dim, 'fp32');
    const found = search.search(queries, 5, 10);
    for (let q = 0; q < 5; q++) {
      const ref = bruteForce(rows, n, dim, queries.subarray(q * dim, (q + 1) * dim), 10);
      expect(found[q].map((s) => s.index)).toEqual(ref.map((s) => s.index));
      found[q].forEach((s, i) => expect(s.score).toBeCloseTo(ref[i].score, 5));
    }
  });

  it('bf16 scores within bf16 rounding of brute force, and its top-10 holds the true top-3', () => {
    const search = new ExactSearch(rows, n, dim, 'bf16');
    expect(search.precision).toBe(bf16Available() ? 'bf16' : 'fp32');
    const found = search.search(queries, 5, 10);
    for (let q = 0; q < 5; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const ref = bruteForce(rows, n, dim, query, 3);
      for (const s of found[q]) expect(Math.abs(s.score - bruteForce(rows, n, dim, query, n).find((r) => r.index === s.index)!.score)).toBeLessThan(2e-2);
      expect(found[q].map((s) => s.index)).toEqual(expect.arrayContaining(ref.map((s) => s.index)));
    }
  });

  it('answers an empty set and refuses bad arguments with coded errors', () => {
    expect(new ExactSearch(new Float32Array(0), 0, dim).search(queries.subarray(0, dim), 1, 5)).toEqual([[]]);
    const search = new ExactSearch(rows, n, dim);
    expect(() => search.search(new Float32Array(dim - 1), 1, 5)).toThrow(expect.objectContaining({ code: 'POSAPL_SHAPE' }));
    expect(() => search.search(queries.subarray(0, dim), 1, 0)).toThrow(expect.objectContaining({ code: 'POSAPL_TYPE' }));
    expect(() => new ExactSearch(rows, n + 1, dim)).toThrow(expect.objectContaining({ code: 'POSAPL_SHAPE' }));
  });
});

describe('float16 storage', () => {
  it('rounds to nearest even and round-trips every half exactly', () => {
    const cases: [number, number][] = [[0, 0], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [1e6, 0x7c00], [2 ** -24, 1], [2 ** -25, 0], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66]];
    for (const [v, h] of cases) expect(toHalf(v)).toBe(h);
    expect(Number.isNaN(toFloat32({ dtype: 'float16', shape: [1], data: Uint16Array.of(toHalf(NaN)) })[0])).toBe(true);
    const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
    const back = toFloat32({ dtype: 'float16', shape: [all.length], data: all });
    for (let i = 0; i < all.length; i++) if (toHalf(back[i]) !== i) throw new Error(`half ${i} does not round-trip`);
  });
});

(usearchAvailable() ? describe : describe.skip)('HnswSearch (usearch)', () => {
  it('reaches recall@10 >= 0.98 against exact search on 5000 rows', () => {
    const rows = unitRows(5000, 32, 21), queries = unitRows(50, 32, 22);
    const exact = new ExactSearch(rows, 5000, 32).search(queries, 50, 10);
    const hnsw = new HnswSearch(rows, 5000, 32, { expansionSearch: 128 }).search(queries, 50, 10);
    let hits = 0;
    hnsw.forEach((found, q) => {
      const truth = new Set(exact[q].map((s) => s.index));
      hits += found.filter((s) => truth.has(s.index)).length;
      found.forEach((s) => expect(s.score).toBeCloseTo(bruteForce(rows, 5000, 32, queries.subarray(q * 32, (q + 1) * 32), 5000).find((r) => r.index === s.index)!.score, 4));
    });
    expect(hits / 500).toBeGreaterThanOrEqual(0.98);
  });
});
