import { retrievalLosses, RetrievalLossArgs } from '../../src/ops/losses';
import { addon } from '../../src/native/addon';
import { expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';

const LN100 = Math.fround(Math.log(100));

/** Rows of x (N,E) scaled to unit length, as the model's embeddings are. */
function normalizeRows(x: Float32Array, n: number, e: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < e; k++) s += x[i * e + k] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < e; k++) x[i * e + k] *= inv;
  }
  return x;
}

interface Options {
  scale: number;
  margin: number;
  gamma: number;
  wc: number;
  wt: number;
}

/**
 * Float64 reference written the way the authors' PyTorch reads: a soft-target cross entropy on
 * Z and on Z^T with one label matrix, and the two hinge sums; gradients by hand, term by term.
 */
function reference(I: Float32Array, T: Float32Array, ids: Int32Array, n: number, e: number, o: Options) {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += I[i * e + k] * T[j * e + k];
      S[i * n + j] = s;
    }
  const labels = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let count = 0;
    for (let j = 0; j < n; j++) count += ids[i] === ids[j] ? 1 : 0;
    for (let j = 0; j < n; j++) labels[i * n + j] = ids[i] === ids[j] ? 1 / count : 0;
  }
  // mean over rows of -sum_j labels_ij log softmax_j(logits_i.), with its gradient
  const softCrossEntropy = (logits: Float64Array) => {
    const grad = new Float64Array(n * n);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) max = Math.max(max, logits[i * n + j]);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(logits[i * n + j] - max);
      const lse = max + Math.log(sum);
      let mass = 0;
      for (let j = 0; j < n; j++) mass += labels[i * n + j];
      for (let j = 0; j < n; j++) {
        loss -= labels[i * n + j] * (logits[i * n + j] - lse);
        grad[i * n + j] = (Math.exp(logits[i * n + j] - lse) * mass - labels[i * n + j]) / n;
      }
    }
    return { loss: loss / n, grad };
  };
  const Z = S.map((s) => o.scale * s);
  const Zt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Zt[j * n + i] = Z[i * n + j];
  const i2t = softCrossEntropy(Z);
  const t2i = softCrossEntropy(Zt);
  const contrastive = (i2t.loss + t2i.loss) / 2;

  const dS = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) dS[i * n + j] = (o.wc * o.scale * (i2t.grad[i * n + j] + t2i.grad[j * n + i])) / 2;
  let triplet = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const cs = o.margin + S[i * n + j] - S[i * n + i];
      if (cs > 0) {
        triplet += cs ** o.gamma / 2;
        const d = (o.wt * o.gamma * cs ** (o.gamma - 1)) / 2;
        dS[i * n + j] += d;
        dS[i * n + i] -= d;
      }
      const cim = o.margin + S[i * n + j] - S[j * n + j];
      if (cim > 0) {
        triplet += cim ** o.gamma / 2;
        const d = (o.wt * o.gamma * cim ** (o.gamma - 1)) / 2;
        dS[i * n + j] += d;
        dS[j * n + j] -= d;
      }
    }
  const dI = new Float64Array(n * e);
  const dT = new Float64Array(n * e);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const g = dS[i * n + j];
      for (let k = 0; k < e; k++) {
        dI[i * e + k] += g * T[j * e + k];
        dT[j * e + k] += g * I[i * e + k];
      }
    }
  return { contrastive, triplet, dI, dT };
}

function batch(n: number, e: number, seed: number, matchNoise: number) {
  const image = normalizeRows(randomArray(n * e, seed), n, e);
  // Texts near their images so that some but not all triplet margins are violated.
  const noise = randomArray(n * e, seed + 1, matchNoise);
  const text = normalizeRows(image.map((v, i) => v + noise[i]), n, e);
  return { image, text };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function run(args: Omit<RetrievalLossArgs, 'dImage' | 'dText'>) {
  const dImage = new Float32Array(args.n * args.e);
  const dText = new Float32Array(args.n * args.e);
  const values = retrievalLosses({ ...args, dImage, dText });
  return { ...values, dImage, dText };
}

describe('retrievalLosses against a float64 reference', () => {
  const cases: Array<{ name: string; n: number; e: number; ids: number[] | null; o: Options }> = [
    { name: 'paper settings, repeated image ids', n: 8, e: 16, ids: [0, 0, 1, 2, 2, 2, 3, 4], o: { scale: LN100, margin: 0.1, gamma: 2, wc: 1, wt: 1 } },
    { name: 'gamma 3, margin 0.2, uneven weights', n: 12, e: 8, ids: [5, 1, 5, 5, 2, 9, 1, 7, 7, 3, 4, 0], o: { scale: 3, margin: 0.2, gamma: 3, wc: 0.5, wt: 2 } },
    { name: 'gamma 1.5', n: 9, e: 6, ids: null, o: { scale: 2, margin: 0.3, gamma: 1.5, wc: 1, wt: 1 } },
    // Large enough for the row and column passes and the GEMMs to split over threads.
    { name: 'N=160, 5 captions per image', n: 160, e: 32, ids: Array.from({ length: 160 }, (_, i) => (i * 7) % 32), o: { scale: LN100, margin: 0.1, gamma: 2, wc: 1, wt: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { image, text } = batch(c.n, c.e, c.n * 31 + c.e, 0.6);
      const ids = Int32Array.from(c.ids ?? Array.from({ length: c.n }, (_, i) => i));
      const ref = reference(image, text, ids, c.n, c.e, c.o);
      expect(ref.triplet).toBeGreaterThan(0); // the case exercises the hinge
      const got = run({
        image, text, imageIds: ids, n: c.n, e: c.e, logitScale: c.o.scale, margin: c.o.margin, gamma: c.o.gamma,
        contrastiveWeight: c.o.wc, tripletWeight: c.o.wt,
      });
      expect(got.contrastive).toBeCloseTo(ref.contrastive, 5);
      expect(Math.abs(got.triplet - ref.triplet)).toBeLessThanOrEqual(1e-5 * ref.triplet + 1e-6);
      expect(got.total).toBeCloseTo(c.o.wc * got.contrastive + c.o.wt * got.triplet, 12);
      expectClose(got.dImage, ref.dI, 1e-4, 1e-5 * maxAbs(ref.dI), 'dImage');
      expectClose(got.dText, ref.dT, 1e-4, 1e-5 * maxAbs(ref.dT), 'dText');
    });
  }

  it('weight 0 switches the triplet loss off in the gradients but still reports its value', () => {
    const n = 10, e = 12;
    const { image, text } = batch(n, e, 7, 0.8);
    const ids = Int32Array.from([0, 1, 1, 2, 3, 4, 4, 4, 5, 6]);
    const o = { scale: LN100, margin: 0.1, gamma: 2, wc: 1, wt: 0 };
    const ref = reference(image, text, ids, n, e, o);
    const got = run({ image, text, imageIds: ids, n, e, logitScale: o.scale, tripletWeight: 0 });
    expect(got.triplet).toBeGreaterThan(0);
    expect(got.total).toBe(got.contrastive);
    expectClose(got.dImage, ref.dI, 1e-4, 1e-5 * maxAbs(ref.dI), 'dImage');
    expectClose(got.dText, ref.dT, 1e-4, 1e-5 * maxAbs(ref.dT), 'dText');
  });

  it('computes the values alone when no gradient outputs are given', () => {
    const n = 6, e = 5;
    const { image, text } = batch(n, e, 3, 0.7);
    const ids = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const ref = reference(image, text, ids, n, e, { scale: LN100, margin: 0.1, gamma: 2, wc: 1, wt: 1 });
    const got = retrievalLosses({ image, text, imageIds: ids, n, e, logitScale: LN100 });
    expect(got.contrastive).toBeCloseTo(ref.contrastive, 5);
    expect(got.triplet).toBeCloseTo(ref.triplet, 6);
  });
});

describe('retrievalLosses edge cases', () => {
  it('the triplet loss and its gradient are exactly zero when every margin is satisfied', () => {
    // I = T with rows e_i + 0.3 e_{i+1}: S_ii = 1, |S_ij| <= 0.28, so every hinge is negative.
    const n = 6, e = 7;
    const image = new Float32Array(n * e);
    for (let i = 0; i < n; i++) {
      image[i * e + i] = 1;
      image[i * e + i + 1] = 0.3;
    }
    normalizeRows(image, n, e);
    const text = image.slice();
    const ids = Int32Array.from([0, 1, 2, 3, 4, 5]);
    const got = run({ image, text, imageIds: ids, n, e, logitScale: LN100, contrastiveWeight: 0 });
    expect(got.triplet).toBe(0);
    expect(got.contrastive).toBeGreaterThan(0);
    expect(maxAbs(got.dImage)).toBe(0);
    expect(maxAbs(got.dText)).toBe(0);
  });

  it('N=1 has zero losses and zero gradients', () => {
    const image = normalizeRows(randomArray(4, 11), 1, 4);
    const text = normalizeRows(randomArray(4, 12), 1, 4);
    const got = run({ image, text, imageIds: Int32Array.from([42]), n: 1, e: 4, logitScale: LN100 });
    expect(got.contrastive).toBe(0);
    expect(got.triplet).toBe(0);
    expect(Array.from(got.dImage)).toEqual([0, 0, 0, 0]);
    expect(Array.from(got.dText)).toEqual([0, 0, 0, 0]);
  });

  it('splits the target mass over the captions of one image (closed form)', () => {
    // ids [0,0,1,1], I = T with rows a,a,b,b, a orthogonal to b: each row of Z has the logit s
    // twice and 0 twice, P puts 1/2 on each s, so L_c = -log(e^s / (2e^s + 2)) = log(2 + 2e^-s).
    const n = 4, e = 2, s = LN100;
    const image = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
    const got = run({ image, text: image.slice(), imageIds: Int32Array.from([0, 0, 1, 1]), n, e, logitScale: s });
    expect(got.contrastive).toBeCloseTo(Math.log(2 + 2 * Math.exp(-s)), 6);
  });
});

describe('retrievalLosses gradients by finite differences', () => {
  it('match central differences of the weighted loss', () => {
    const n = 7, e = 9;
    const { image, text } = batch(n, e, 21, 0.9);
    const ids = Int32Array.from([0, 1, 1, 2, 3, 3, 4]);
    const args = { image, text, imageIds: ids, n, e, logitScale: LN100, margin: 0.1, gamma: 2, contrastiveWeight: 0.7, tripletWeight: 1.3 };
    const got = run(args);
    const loss = () => retrievalLosses(args).total;
    for (const [x, analytic, label] of [[image, got.dImage, 'dImage'], [text, got.dText, 'dText']] as const) {
      const idx = sampleIndices(n * e, 20, label.length);
      const numeric = finiteDifference(x, idx, loss, 1e-3);
      const scale = maxAbs(analytic);
      expectClose(idx.map((i) => analytic[i]), numeric, 2e-2, 2e-3 * scale, label);
    }
  });
});

describe('retrievalLosses argument errors', () => {
  const n = 4, e = 3;
  const base = () => ({
    image: new Float32Array(n * e).fill(0.5), text: new Float32Array(n * e).fill(0.5),
    imageIds: Int32Array.from([0, 1, 2, 3]), n, e, logitScale: LN100,
    dImage: new Float32Array(n * e), dText: new Float32Array(n * e),
  });
  const expectError = (args: RetrievalLossArgs, code: string, name: RegExp) => {
    let caught: unknown;
    try {
      retrievalLosses(args);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeDefined();
    expect((caught as { code?: string }).code).toBe(code);
    expect((caught as Error).message).toMatch(name);
  };
  it('rejects wrong kinds', () => {
    expectError({ ...base(), image: new Float64Array(n * e) as unknown as Float32Array }, 'POSAPL_TYPE', /for image but received Float64Array/);
    expectError({ ...base(), imageIds: new Float32Array(n) as unknown as Int32Array }, 'POSAPL_TYPE', /for imageIds/);
    expectError({ ...base(), dText: [] as unknown as Float32Array }, 'POSAPL_TYPE', /for dText/);
    expectError({ ...base(), logitScale: NaN }, 'POSAPL_TYPE', /for logitScale/);
  });
  it('rejects wrong lengths', () => {
    expectError({ ...base(), text: new Float32Array(n * e + 1) }, 'POSAPL_SHAPE', /Float32Array of length 12 for text/);
    expectError({ ...base(), imageIds: new Int32Array(n - 1) }, 'POSAPL_SHAPE', /for imageIds/);
    expectError({ ...base(), dImage: new Float32Array(n * e - 1) }, 'POSAPL_SHAPE', /for dImage/);
  });
  it('rejects bad dimensions and gamma', () => {
    expectError({ ...base(), n: 0 }, 'POSAPL_SHAPE', /for n but received 0/);
    expectError({ ...base(), n: 40000 }, 'POSAPL_SHAPE', /Expected integer in \[1, 32768\] for n/);
    expectError({ ...base(), e: 1.5 }, 'POSAPL_SHAPE', /for e but received/);
    expectError({ ...base(), gamma: 0 }, 'POSAPL_SHAPE', /for gamma/);
  });
  it('rejects aliased outputs', () => {
    const b = base();
    expectError({ ...b, dImage: b.image }, 'POSAPL_ALIAS', /dImage not to share memory with image/);
    const shared = new Float32Array(2 * n * e);
    expectError({ ...b, dImage: shared.subarray(0, n * e), dText: shared.subarray(n * e - 1, 2 * n * e - 1) }, 'POSAPL_ALIAS', /dImage|dText/);
  });
  it('rejects a call that is not one object of named arguments', () => {
    let caught: unknown;
    try {
      (addon().retrievalLosses as unknown as (...a: unknown[]) => unknown)(null, null);
    } catch (err) {
      caught = err;
    }
    expect((caught as { code?: string }).code).toBe('POSAPL_ARGS');
  });
});
