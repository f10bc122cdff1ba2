import { layerNormRef } from '../../src/opHarness/references';
import { layerNormBackward, layerNormForward } from '../../src/ops/layernorm';
import { dot, expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';
import { expectError } from '../helpers/errors';

/** Float64 reference: out, mean, rstd (the harness's), and for a given dout the gradients dx, dweight, dbias by hand. */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, n: number, c: number, dout: Float32Array) {
  const { out, mean, rstd } = layerNormRef(x, w, b, n, c);
  const dx = new Float64Array(n * c), dw = new Float64Array(c), db = new Float64Array(c);
  for (let r = 0; r < n; r++) {
    const m = mean[r], s = rstd[r];
    let gMean = 0, gxMean = 0;
    for (let k = 0; k < c; k++) {
      const xhat = (x[r * c + k] - m) * s;
      const g = dout[r * c + k] * w[k];
      gMean += g / c;
      gxMean += (g * xhat) / c;
      dw[k] += dout[r * c + k] * xhat;
      db[k] += dout[r * c + k];
    }
    for (let k = 0; k < c; k++) {
      const xhat = (x[r * c + k] - m) * s;
      dx[r * c + k] = s * (dout[r * c + k] * w[k] - gMean - xhat * gxMean);
    }
  }
  return { out, mean, rstd, dx, dw, db };
}

describe('layerNormForward / layerNormBackward', () => {
  // C = 70 leaves tails after the 16-lane sums and the 64-column gradient blocks;
  // N = 300 rows spreads the rows over more than one thread.
  const n = 300, c = 70;
  const x = randomArray(n * c, 1, 2);
  for (let i = 0; i < x.length; i++) x[i] += 0.5; // a non-zero mean
  const weight = randomArray(c, 2, 1);
  const bias = randomArray(c, 3, 1);
  const dout = randomArray(n * c, 4, 1);
  const ref = reference(x, weight, bias, n, c, dout);

  const forward = () => {
    const out = new Float32Array(n * c), mean = new Float32Array(n), rstd = new Float32Array(n);
    layerNormForward({ out, mean, rstd, x, weight, bias, n, c });
    return { out, mean, rstd };
  };

  it('matches the float64 reference forward (rtol 1e-5, atol 1e-5)', () => {
    const f = forward();
    expectClose(f.out, ref.out, 1e-5, 1e-5, 'out');
    expectClose(f.mean, ref.mean, 1e-5, 1e-6, 'mean');
    expectClose(f.rstd, ref.rstd, 1e-5, 1e-6, 'rstd');
    const inference = new Float32Array(n * c);
    layerNormForward({ out: inference, x, weight, bias, n, c });
    expect(Array.from(inference)).toEqual(Array.from(f.out));
  });

  it('matches the float64 reference backward, accumulating dweight and dbias', () => {
    const { mean, rstd } = forward();
    const dx = new Float32Array(n * c).fill(7); // overwritten
    const dweight = new Float32Array(c).fill(0.25), dbias = new Float32Array(c).fill(-0.5);
    layerNormBackward({ dx, dweight, dbias, dout, x, weight, mean, rstd, n, c });
    expectClose(dx, ref.dx, 1e-4, 1e-5, 'dx');
    expectClose(dweight, ref.dw.map((v) => v + 0.25), 1e-4, 1e-4, 'dweight');
    expectClose(dbias, ref.db.map((v) => v - 0.5), 1e-4, 1e-4, 'dbias');

    const frozen = new Float32Array(n * c);
    layerNormBackward({ dx: frozen, dout, x, weight, mean, rstd, n, c });
    expect(Array.from(frozen)).toEqual(Array.from(dx));
  });

  it('agrees with central finite differences of the native forward (h 1e-2, rtol 1e-2, atol 1e-3)', () => {
    const ns = 4, cs = 37;
    const xs = randomArray(ns * cs, 11, 1.5), ws = randomArray(cs, 12), bs = randomArray(cs, 13);
    const g = randomArray(ns * cs, 14);
    const out = new Float32Array(ns * cs), mean = new Float32Array(ns), rstd = new Float32Array(ns);
    const loss = () => {
      layerNormForward({ out, mean, rstd, x: xs, weight: ws, bias: bs, n: ns, c: cs });
      return dot(out, g);
    };
    loss();
    const dx = new Float32Array(ns * cs), dweight = new Float32Array(cs), dbias = new Float32Array(cs);
    layerNormBackward({ dx, dweight, dbias, dout: g, x: xs, weight: ws, mean, rstd, n: ns, c: cs });
    const ix = sampleIndices(ns * cs, 24, 15);
    expectClose(ix.map((i) => dx[i]), finiteDifference(xs, ix, loss), 1e-2, 1e-3, 'dx vs FD');
    const iw = sampleIndices(cs, 12, 16);
    expectClose(iw.map((i) => dweight[i]), finiteDifference(ws, iw, loss), 1e-2, 1e-3, 'dweight vs FD');
    expectClose(iw.map((i) => dbias[i]), finiteDifference(bs, iw, loss), 1e-2, 1e-3, 'dbias vs FD');
  });

  describe('argument errors', () => {
    const n2 = 2, c2 = 3;
    const a = () => ({
      out: new Float32Array(6), mean: new Float32Array(2), rstd: new Float32Array(2),
      x: new Float32Array(6), weight: new Float32Array(3), bias: new Float32Array(3), n: n2, c: c2,
    });
    it('forward: kind, length, dims, aliasing', () => {
      expectError(() => layerNormForward({ ...a(), x: new Float64Array(6) as unknown as Float32Array }), 'POSAPL_TYPE', 'x');
      expectError(() => layerNormForward({ ...a(), weight: new Float32Array(4) }), 'POSAPL_SHAPE', 'weight');
      expectError(() => layerNormForward({ ...a(), rstd: new Float32Array(3) }), 'POSAPL_SHAPE', 'rstd');
      expectError(() => layerNormForward({ ...a(), n: 0 }), 'POSAPL_SHAPE', 'n');
      expectError(() => layerNormForward({ ...a(), c: 1.5 }), 'POSAPL_SHAPE', 'c');
      const args = a();
      expectError(() => layerNormForward({ ...args, out: args.x }), 'POSAPL_ALIAS', 'out');
    });
    const b = () => ({
      dx: new Float32Array(6), dweight: new Float32Array(3), dbias: new Float32Array(3), dout: new Float32Array(6),
      x: new Float32Array(6), weight: new Float32Array(3), mean: new Float32Array(2), rstd: new Float32Array(2),
      n: n2, c: c2,
    });
    it('backward: kind, length, dims, aliasing', () => {
      expectError(() => layerNormBackward({ ...b(), dout: new Int32Array(6) as unknown as Float32Array }), 'POSAPL_TYPE', 'dout');
      expectError(() => layerNormBackward({ ...b(), mean: new Float32Array(3) }), 'POSAPL_SHAPE', 'mean');
      expectError(() => layerNormBackward({ ...b(), dbias: new Float32Array(2) }), 'POSAPL_SHAPE', 'dbias');
      expectError(() => layerNormBackward({ ...b(), c: -1 }), 'POSAPL_SHAPE', 'c');
      const args = b();
      expectError(() => layerNormBackward({ ...args, dweight: args.weight }), 'POSAPL_ALIAS', 'dweight');
      const shared = new Float32Array(12);
      expectError(
        () => layerNormBackward({ ...args, dx: shared.subarray(0, 6), dout: shared.subarray(3, 9) }),
        'POSAPL_ALIAS', 'dx',
      );
    });
  });
});
