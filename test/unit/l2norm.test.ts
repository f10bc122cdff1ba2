import { l2NormBackward, l2NormForward } from '../../src/ops/l2norm';
import { dot, expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';
import { expectError } from '../helpers/errors';

const EPS = 1e-12;

/** Float64 reference of torch.nn.functional.normalize and its gradient. */
function reference(x: Float32Array, dout: Float32Array, n: number, c: number) {
  const out = new Float64Array(n * c), dx = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * c, (r + 1) * c), g = dout.subarray(r * c, (r + 1) * c);
    const norm = Math.sqrt(dot(row, row));
    const denom = Math.max(norm, EPS);
    const proj = norm >= EPS ? dot(row, g) / norm ** 3 : 0;
    for (let k = 0; k < c; k++) {
      out[r * c + k] = row[k] / denom;
      dx[r * c + k] = g[k] / denom - row[k] * proj;
    }
  }
  return { out, dx };
}

describe('l2NormForward / l2NormBackward', () => {
  it('matches the float64 reference, including a zero row and one below eps (rtol 1e-5, atol 1e-6)', () => {
    const n = 40, c = 33;
    const x = randomArray(n * c, 1, 3);
    x.fill(0, 5 * c, 6 * c); // norm 0: out 0, dx = dout / eps
    for (let k = 0; k < c; k++) x[7 * c + k] = 1e-14 * (k + 1); // norm ~1.9e-12 > eps
    for (let k = 0; k < c; k++) x[9 * c + k] = 1e-15; // norm ~5.7e-15 < eps: x / eps
    const dout = randomArray(n * c, 2);
    const out = new Float32Array(n * c), dx = new Float32Array(n * c).fill(3);
    l2NormForward(out, x, n, c);
    l2NormBackward(dx, dout, x, n, c);
    const ref = reference(x, dout, n, c);
    expectClose(out, ref.out, 1e-5, 1e-6, 'out');
    expectClose(dx, ref.dx, 1e-5, 1e-6, 'dx');
    expect(out.subarray(5 * c, 6 * c).every((v) => v === 0)).toBe(true);
    expect(dx[5 * c]).toBeCloseTo(dout[5 * c] / EPS, -6); // within 1e6 of ~1e12
    let sq = 0;
    for (let k = 0; k < c; k++) sq += out[k] ** 2;
    expect(Math.abs(Math.sqrt(sq) - 1)).toBeLessThan(1e-6);
  });

  it('agrees with central finite differences of the native forward (h 1e-2, rtol 1e-2, atol 1e-3)', () => {
    const n = 3, c = 8;
    const x = randomArray(n * c, 5);
    const g = randomArray(n * c, 6);
    const out = new Float32Array(n * c), dx = new Float32Array(n * c);
    const loss = () => {
      l2NormForward(out, x, n, c);
      return dot(out, g);
    };
    l2NormBackward(dx, g, x, n, c);
    const idx = sampleIndices(n * c, 20, 7);
    expectClose(idx.map((i) => dx[i]), finiteDifference(x, idx, loss), 1e-2, 1e-3, 'dx vs FD');
  });

  describe('argument errors', () => {
    it('forward: kind, length, dims, aliasing', () => {
      const x = new Float32Array(6);
      expectError(() => l2NormForward(new Float64Array(6) as unknown as Float32Array, x, 2, 3), 'POSAPL_TYPE', 'out');
      expectError(() => l2NormForward(new Float32Array(6), new Float32Array(5), 2, 3), 'POSAPL_SHAPE', 'x');
      expectError(() => l2NormForward(new Float32Array(6), x, 2, 0), 'POSAPL_SHAPE', 'c');
      expectError(() => l2NormForward(new Float32Array(6), x, NaN, 3), 'POSAPL_SHAPE', 'n');
      expectError(() => l2NormForward(x, x, 2, 3), 'POSAPL_ALIAS', 'out');
    });
    it('backward: kind, length, dims, aliasing', () => {
      const x = new Float32Array(6), g = new Float32Array(6);
      expectError(() => l2NormBackward(new Float32Array(6), [0, 0, 0, 0, 0, 0] as unknown as Float32Array, x, 2, 3), 'POSAPL_TYPE', 'dout');
      expectError(() => l2NormBackward(new Float32Array(7), g, x, 2, 3), 'POSAPL_SHAPE', 'dx');
      expectError(() => l2NormBackward(new Float32Array(6), g, x, 2.5, 3), 'POSAPL_SHAPE', 'n');
      expectError(() => l2NormBackward(g, g, x, 2, 3), 'POSAPL_ALIAS', 'dx');
    });
  });
});
