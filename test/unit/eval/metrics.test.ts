/** The authors' retrieval metrics: ranks, ties, Python rounding and the printed format. */
import { formatMetrics, metricsFromRanks, retrievalMetrics, retrievalRanks } from '../../../src/eval';
import { pythonFloatRepr, pythonRound } from '../../../src/eval/python';
import { rng } from '../../helpers/numeric';

/**
 * A line-by-line transcription of the authors' itm_eval (posapl_main.py) with
 * np.argsort(score)[::-1] taken as a stable ascending sort reversed, returning the unrounded
 * percentages and the ranks.
 */
function itmEval(sims: Float32Array, nImages: number, nTexts: number, textImage: Int32Array) {
  const img2txt: number[][] = Array.from({ length: nImages }, () => []);
  textImage.forEach((i, t) => img2txt[i].push(t));
  const argsortDescending = (score: number[]) =>
    score.map((_, j) => j).sort((a, b) => score[a] - score[b]).reverse(); // Array sort is stable
  const textRanks: number[] = [];
  for (let index = 0; index < nImages; index++) {
    const inds = argsortDescending(Array.from(sims.subarray(index * nTexts, (index + 1) * nTexts)));
    let rank = 1e20;
    for (const i of img2txt[index]) rank = Math.min(rank, inds.indexOf(i));
    textRanks.push(rank);
  }
  const imageRanks: number[] = [];
  for (let index = 0; index < nTexts; index++) {
    const inds = argsortDescending(Array.from({ length: nImages }, (_, i) => sims[i * nTexts + index]));
    imageRanks.push(inds.indexOf(textImage[index]));
  }
  const pct = (r: number[], k: number) => (100.0 * r.filter((x) => x < k).length) / r.length;
  const [tr1, tr5, tr10] = [1, 5, 10].map((k) => pct(textRanks, k));
  const [ir1, ir5, ir10] = [1, 5, 10].map((k) => pct(imageRanks, k));
  const rMean = ((tr1 + tr5 + tr10) / 3 + (ir1 + ir5 + ir10) / 3) / 2;
  return { textRanks, imageRanks, raw: { txt_r1: tr1, txt_r5: tr5, txt_r10: tr10, img_r1: ir1, img_r5: ir5, img_r10: ir10, r_mean: rMean } };
}

function randomCase(seed: number, nImages: number, perImage: number, levels = 0) {
  const r = rng(seed);
  const nTexts = nImages * perImage;
  // Captions in a shuffled order, so that an image's captions are not adjacent.
  const textImage = new Int32Array(nTexts).map((_, t) => Math.floor(t / perImage));
  for (let t = nTexts - 1; t > 0; t--) {
    const j = Math.floor(r() * (t + 1));
    [textImage[t], textImage[j]] = [textImage[j], textImage[t]];
  }
  // levels > 0 quantises the scores, making ties frequent.
  const sims = new Float32Array(nImages * nTexts).map(() => (levels > 0 ? Math.floor(r() * levels) / levels : r() * 2 - 1));
  return { sims, nImages, nTexts, textImage };
}

describe('pythonRound', () => {
  it("matches Python's round(x, 2), exact ties to even, on values printed by CPython", () => {
    // [x, round(x, 2)] from CPython 3.11.
    const cases: [number, number][] = [
      [0.125, 0.12], [0.375, 0.38], [0.625, 0.62], [0.875, 0.88], [1.125, 1.12], [2.675, 2.67], [1.005, 1.0],
      [0.115, 0.12], [0.135, 0.14], [0.145, 0.14], [33.335, 33.34], [26.985, 26.98], [100.0, 100.0], [0.0, 0.0],
      [-0.125, -0.12], [-2.675, -2.67], [12.345, 12.35], [1e-7, 0.0], [4.999999999999999, 5.0], [99.995, 100.0],
      [50.005, 50.01], [13.495575221238939, 13.5], [33.333333333333336, 33.33], [66.66666666666667, 66.67],
      [5.442477876106195, 5.44], [1.1061946902654867, 1.11], [1234.5678, 1234.57], [0.005, 0.01], [0.015, 0.01],
      [0.025, 0.03], [1e22, 1e22], [5e-324, 0.0], [2.5, 2.5], [7.125000000000001, 7.13],
    ];
    for (const [x, expected] of cases) expect([x, pythonRound(x, 2)]).toEqual([x, expected]);
    expect(Object.is(pythonRound(-1e-7, 2), -0)).toBe(true);
    expect(pythonRound(NaN, 2)).toBeNaN();
  });

  it('agrees with an independent rounding (toFixed away from the only exact ties, odd multiples of 1/8) on every metric value', () => {
    // Exact decimal ties at 2 places exist only for x = odd / 8; elsewhere toFixed rounds the exact value correctly.
    const oracle = (x: number) => {
      const eighths = x * 8;
      if (Number.isInteger(eighths) && eighths % 2 !== 0) {
        const down = Math.floor(x * 100);
        return (down % 2 === 0 ? down : down + 1) / 100;
      }
      return Number(x.toFixed(2));
    };
    const values: number[] = [];
    // Every percentage RSITMD and RSICD test splits can give, and random means of them.
    for (const n of [452, 2260, 1093, 5465, 800, 8]) for (let k = 0; k <= n; k++) values.push((100.0 * k) / n);
    const r = rng(3);
    for (let k = 0; k < 20000; k++) {
      const pick = () => values[Math.floor(r() * values.length)];
      values.push((pick() + pick() + pick()) / 3, ((pick() + pick() + pick()) / 3 + (pick() + pick() + pick()) / 3) / 2, r() * 100);
    }
    let ties = 0;
    for (const x of values) {
      if (Number.isInteger(x * 8) && (x * 8) % 2 !== 0) ties++;
      if (pythonRound(x, 2) !== oracle(x)) throw new Error(`pythonRound(${x}, 2) = ${pythonRound(x, 2)}, expected ${oracle(x)}`);
    }
    expect(ties).toBeGreaterThan(10); // the tie branch was exercised (e.g. 100 * 1/800 = 0.125)
  });
});

describe('pythonFloatRepr', () => {
  it("prints floats as Python's repr", () => {
    const cases: [number, string][] = [
      [26.99, '26.99'], [50.0, '50.0'], [100.0, '100.0'], [0.0, '0.0'], [-0.0, '-0.0'], [0.01, '0.01'], [10.18, '10.18'],
      [1e16, '1e+16'], [1.5e16, '1.5e+16'], [1e-5, '1e-05'], [1.234e-7, '1.234e-07'], [0.0001, '0.0001'],
      [123456789012345.6, '123456789012345.6'], [1234567890123456.7, '1234567890123456.8'], [-3.5, '-3.5'],
      [Infinity, 'inf'], [NaN, 'nan'], [0.1 + 0.2, '0.30000000000000004'], [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [x, expected] of cases) expect([x, pythonFloatRepr(x)]).toEqual([x, expected]);
  });
});

describe('retrievalRanks and retrievalMetrics', () => {
  it('computes a hand-worked case without ties', () => {
    // 3 images x 6 captions, captions 2k and 2k+1 belong to image k.
    // prettier-ignore
    const sims = new Float32Array([
      0.9, 0.1, 0.8, 0.2,  0.3, 0.4,   // image 0: best own caption t0 (0.9), nothing above      -> rank 0
      0.5, 0.6, 0.1, 0.25, 0.7, 0.3,   // image 1: best own caption t3 (0.25); 0.5 0.6 0.7 0.3 above -> rank 4
      0.2, 0.3, 0.9, 0.1,  0.15, 0.05, // image 2: best own caption t4 (0.15); 0.2 0.3 0.9 above   -> rank 3
    ]);
    const textImage = new Int32Array([0, 0, 1, 1, 2, 2]);
    const ranks = retrievalRanks(sims, 3, 6, textImage);
    expect(Array.from(ranks.text)).toEqual([0, 4, 3]);
    expect(Array.from(ranks.bestText)).toEqual([0, 3, 4]);
    // Columns: t0 [.9 .5 .2] own 0 -> 0; t1 [.1 .6 .3] own 0 -> 2; t2 [.8 .1 .9] own 1 -> 2;
    //          t3 [.2 .25 .1] own 1 -> 0; t4 [.3 .7 .15] own 2 -> 2; t5 [.4 .3 .05] own 2 -> 2.
    expect(Array.from(ranks.image)).toEqual([0, 2, 2, 0, 2, 2]);
    expect([ranks.tiedTextQueries, ranks.tiedImageQueries]).toEqual([0, 0]);
    // R@1 = 1/3 and 2/6 of the queries; R@5 = R@10 = 100; mR = (33.33.. + 200) / 3.
    expect(retrievalMetrics(sims, 3, 6, textImage)).toEqual({
      txt_r1: 33.33, txt_r5: 100, txt_r10: 100, img_r1: 33.33, img_r5: 100, img_r10: 100, r_mean: 77.78,
    });
  });

  it('ranks equal scores as the reversed stable argsort: higher index first', () => {
    // 2 images x 4 captions; t0, t1 belong to image 0, t2, t3 to image 1.
    // prettier-ignore
    const sims = new Float32Array([
      0.5, 0.3, 0.5, 0.5, // image 0: order t3 t2 t0 t1 -> own t0 at position 2 (ties with later t2, t3 count)
      0.3, 0.3, 0.3, 0.1, // image 1: order t2 t1 t0 t3 -> own t2 at position 0 (ties with earlier t0, t1 do not)
    ]);
    const textImage = new Int32Array([0, 0, 1, 1]);
    const ranks = retrievalRanks(sims, 2, 4, textImage);
    expect(Array.from(ranks.text)).toEqual([2, 0]);
    // Columns: t0 [.5 .3] own 0 -> 0; t1 [.3 .3] own 0, tie with image 1 (later) -> 1;
    //          t2 [.5 .3] own 1 -> 1; t3 [.5 .1] own 1 -> 1.
    expect(Array.from(ranks.image)).toEqual([0, 1, 1, 1]);
    expect([ranks.tiedTextQueries, ranks.tiedImageQueries]).toEqual([2, 1]);
  });

  it("takes the best of an image's captions, the later one among equals", () => {
    // Image 0 owns t0, t1 (tied at 0.7); t3 of image 1 is above them: order t3 t1 t0 t2 -> rank 1.
    const sims = new Float32Array([0.7, 0.7, 0.1, 0.9, 0.0, 0.0, 0.0, 0.0]);
    const ranks = retrievalRanks(sims, 2, 4, new Int32Array([0, 0, 1, 1]));
    expect(ranks.text[0]).toBe(1);
    expect(ranks.bestText[0]).toBe(1);
    expect(ranks.tiedTextQueries).toBe(1); // image 1's row: all four equal
  });

  it('gives every position on an all-equal matrix', () => {
    const ranks = retrievalRanks(new Float32Array(9).fill(0.4), 3, 3, new Int32Array([0, 1, 2]));
    expect(Array.from(ranks.text)).toEqual([2, 1, 0]);
    expect(Array.from(ranks.image)).toEqual([2, 1, 0]);
    expect([ranks.tiedTextQueries, ranks.tiedImageQueries]).toEqual([3, 3]);
  });

  it("rounds as Python: 1 hit in 800 queries is 0.125%, printed 0.12 (not 0.13)", () => {
    const n = 800;
    const sims = new Float32Array(n * n).fill(0.5);
    for (let i = 1; i < n; i++) sims[i * n + i] = 0.1; // every pair but the first is ranked last
    sims[0] = 1;
    const m = retrievalMetrics(sims, n, n, new Int32Array(n).map((_, t) => t));
    expect(m).toEqual({ txt_r1: 0.12, txt_r5: 0.12, txt_r10: 0.12, img_r1: 0.12, img_r5: 0.12, img_r10: 0.12, r_mean: 0.12 });
  });

  it('agrees with a transcription of itm_eval on random scores without ties', () => {
    for (const [seed, nImages, perImage] of [[1, 40, 5], [2, 23, 1], [3, 17, 3]]) {
      const c = randomCase(seed, nImages, perImage);
      const ranks = retrievalRanks(c.sims, c.nImages, c.nTexts, c.textImage);
      const ref = itmEval(c.sims, c.nImages, c.nTexts, c.textImage);
      expect(Array.from(ranks.text)).toEqual(ref.textRanks);
      expect(Array.from(ranks.image)).toEqual(ref.imageRanks);
      expect([ranks.tiedTextQueries, ranks.tiedImageQueries]).toEqual([0, 0]);
      const m = retrievalMetrics(c.sims, c.nImages, c.nTexts, c.textImage);
      for (const [k, v] of Object.entries(ref.raw)) {
        expect(Math.abs(m[k as keyof typeof m] - v)).toBeLessThanOrEqual(0.005 + 1e-12);
        expect(m[k as keyof typeof m]).toBe(pythonRound(v, 2));
      }
    }
  });

  it('agrees with the reversed stable argsort on scores full of ties', () => {
    for (const [seed, levels] of [[4, 3], [5, 8], [6, 2]]) {
      const c = randomCase(seed, 30, 5, levels);
      const ranks = retrievalRanks(c.sims, c.nImages, c.nTexts, c.textImage);
      const ref = itmEval(c.sims, c.nImages, c.nTexts, c.textImage);
      expect(Array.from(ranks.text)).toEqual(ref.textRanks);
      expect(Array.from(ranks.image)).toEqual(ref.imageRanks);
      expect(ranks.tiedImageQueries).toBeGreaterThan(0);
    }
  });

  it('computes the metrics from ranks with the authors\' arithmetic', () => {
    // 3 image queries at ranks 0, 7, 12; 6 caption queries at ranks 0, 0, 4, 5, 9, 30.
    const m = metricsFromRanks({ text: new Int32Array([0, 7, 12]), image: new Int32Array([0, 0, 4, 5, 9, 30]) });
    // tr = 33.33.., 33.33.., 66.66..; ir = 33.33.., 50, 83.33..; mR = (44.44.. + 55.55..) / 2 = 50.
    expect(m).toEqual({ txt_r1: 33.33, txt_r5: 33.33, txt_r10: 66.67, img_r1: 33.33, img_r5: 50, img_r10: 83.33, r_mean: 50 });
  });

  it('rejects bad arguments with a code and the argument name', () => {
    const sims = new Float32Array(6);
    const textImage = new Int32Array([0, 1, 1]);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(codeOf(() => retrievalRanks(new Float64Array(6) as unknown as Float32Array, 2, 3, textImage))).toMatch(/^POSAPL_TYPE: .*for sims/);
    expect(codeOf(() => retrievalRanks(new Float32Array(5), 2, 3, textImage))).toMatch(/^POSAPL_SHAPE: .*for sims/);
    expect(codeOf(() => retrievalRanks(sims, 2, 3, new Int32Array([0, 1])))).toMatch(/^POSAPL_SHAPE: .*for textImage/);
    expect(codeOf(() => retrievalRanks(sims, 2, 3, new Int32Array([0, 2, 1])))).toMatch(/^POSAPL_SHAPE: .*textImage.* 2 at caption 1/);
    expect(codeOf(() => retrievalRanks(sims, 2.5, 3, textImage))).toMatch(/^POSAPL_TYPE: .*for nImages/);
    expect(codeOf(() => retrievalRanks(sims, 2, 0, textImage))).toMatch(/^POSAPL_TYPE: .*for nTexts/);
    expect(codeOf(() => retrievalRanks(sims, 2, 3, new Int32Array([1, 1, 1])))).toMatch(/^POSAPL_SHAPE: .*image 0 has none/);
    const bad = new Float32Array(6);
    bad[4] = NaN;
    expect(codeOf(() => retrievalRanks(bad, 2, 3, textImage))).toMatch(/^POSAPL_NONFINITE: .*NaN at image 1, caption 1/);
  });
});

describe('formatMetrics', () => {
  it("prints the authors' dict, as in their log", () => {
    const m = { txt_r1: 10.18, txt_r5: 24.12, txt_r10: 35.84, img_r1: 10.0, img_r5: 33.63, img_r10: 50.58, r_mean: 27.39 };
    expect(formatMetrics(m)).toBe(
      "{'txt_r1': 10.18, 'txt_r5': 24.12, 'txt_r10': 35.84, 'img_r1': 10.0, 'img_r5': 33.63, 'img_r10': 50.58, 'r_mean': 27.39}",
    );
  });
});
