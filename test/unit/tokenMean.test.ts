import {
  broadcastAddBackward, broadcastAddForward, tokenMeanBackward, tokenMeanForward,
} from '../../src/ops/tokenMean';
import { dot, expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';
import { expectError } from '../helpers/errors';

describe('token mean and broadcast add', () => {
  // (b, l, c) = (4, 50, 37): the vision token count, an odd width, more than one thread's work.
  const b = 4, l = 50, c = 37;
  const x = randomArray(b * l * c, 1);
  const s = randomArray(b * c, 2);

  it('tokenMeanForward matches a float64 mean (rtol 1e-5, atol 1e-6)', () => {
    const out = new Float32Array(b * c);
    tokenMeanForward(out, x, b, l, c);
    const ref = new Float64Array(b * c);
    for (let i = 0; i < b; i++) for (let t = 0; t < l; t++) for (let k = 0; k < c; k++) ref[i * c + k] += x[(i * l + t) * c + k] / l;
    expectClose(out, ref, 1e-5, 1e-6, 'out');
  });

  it('broadcastAddForward adds s to every token (exact)', () => {
    const out = new Float32Array(b * l * c);
    broadcastAddForward(out, x, s, b, l, c);
    for (let i = 0; i < b; i++)
      for (let t = 0; t < l; t++)
        for (let k = 0; k < c; k++) expect(out[(i * l + t) * c + k]).toBe(Math.fround(x[(i * l + t) * c + k] + s[i * c + k]));
  });

  it('the backwards are the adjoints of the forwards: <f(x), g> = <x, f*(g)> (rtol 1e-5)', () => {
    const gMean = randomArray(b * c, 3), gAdd = randomArray(b * l * c, 4);
    const mean = new Float32Array(b * c), dx = new Float32Array(b * l * c).fill(5);
    tokenMeanForward(mean, x, b, l, c);
    tokenMeanBackward(dx, gMean, b, l, c);
    expectClose([dot(mean, gMean)], [dot(x, dx)], 1e-5, 0, 'token mean');
    expectClose(dx.subarray(l * c, l * c + c), gMean.subarray(c, 2 * c).map((v) => v / l), 1e-6, 0, 'dx row');
    // broadcast add: out = x + s, so <out, g> = <x, g> + <s, ds>
    const out = new Float32Array(b * l * c), ds = new Float32Array(b * c).fill(5);
    broadcastAddForward(out, x, s, b, l, c);
    broadcastAddBackward(ds, gAdd, b, l, c);
    expectClose([dot(out, gAdd)], [dot(x, gAdd) + dot(s, ds)], 1e-5, 0, 'broadcast add');
  });

  it('agrees with central finite differences (h 1e-2, rtol 1e-2, atol 1e-3)', () => {
    const bs = 2, ls = 3, cs = 4;
    const xs = randomArray(bs * ls * cs, 7), ss = randomArray(bs * cs, 8);
    const gMean = randomArray(bs * cs, 9), gAdd = randomArray(bs * ls * cs, 10);
    const mean = new Float32Array(bs * cs), out = new Float32Array(bs * ls * cs);
    const dx = new Float32Array(bs * ls * cs), ds = new Float32Array(bs * cs);
    tokenMeanBackward(dx, gMean, bs, ls, cs);
    broadcastAddBackward(ds, gAdd, bs, ls, cs);
    const ix = sampleIndices(bs * ls * cs, 10, 11), is = sampleIndices(bs * cs, 6, 12);
    const meanLoss = () => (tokenMeanForward(mean, xs, bs, ls, cs), dot(mean, gMean));
    const addLoss = () => (broadcastAddForward(out, xs, ss, bs, ls, cs), dot(out, gAdd));
    expectClose(ix.map((i) => dx[i]), finiteDifference(xs, ix, meanLoss), 1e-2, 1e-3, 'token mean dx');
    expectClose(ix.map((i) => gAdd[i]), finiteDifference(xs, ix, addLoss), 1e-2, 1e-3, 'broadcast add dx = dout');
    expectClose(is.map((i) => ds[i]), finiteDifference(ss, is, addLoss), 1e-2, 1e-3, 'broadcast add ds');
  });

  describe('argument errors', () => {
    const B = 2, L = 3, C = 4;
    const big = () => new Float32Array(B * L * C), small = () => new Float32Array(B * C);
    it('tokenMeanForward', () => {
      expectError(() => tokenMeanForward(small(), new Float64Array(24) as unknown as Float32Array, B, L, C), 'POSAPL_TYPE', 'x');
      expectError(() => tokenMeanForward(new Float32Array(9), big(), B, L, C), 'POSAPL_SHAPE', 'out');
      expectError(() => tokenMeanForward(small(), big(), B, 0, C), 'POSAPL_SHAPE', 'l');
      const shared = big();
      expectError(() => tokenMeanForward(shared.subarray(0, 8), shared, B, L, C), 'POSAPL_ALIAS', 'out');
    });
    it('tokenMeanBackward', () => {
      expectError(() => tokenMeanBackward(big(), new Uint8Array(8) as unknown as Float32Array, B, L, C), 'POSAPL_TYPE', 'dout');
      expectError(() => tokenMeanBackward(new Float32Array(23), small(), B, L, C), 'POSAPL_SHAPE', 'dx');
      expectError(() => tokenMeanBackward(big(), small(), -B, L, C), 'POSAPL_SHAPE', 'b');
      const shared = big();
      expectError(() => tokenMeanBackward(shared, shared.subarray(16, 24), B, L, C), 'POSAPL_ALIAS', 'dx');
    });
    it('broadcastAddForward', () => {
      expectError(() => broadcastAddForward(big(), big(), new Float64Array(8) as unknown as Float32Array, B, L, C), 'POSAPL_TYPE', 's');
      expectError(() => broadcastAddForward(big(), big(), new Float32Array(4), B, L, C), 'POSAPL_SHAPE', 's');
      expectError(() => broadcastAddForward(big(), big(), small(), B, L, 1.25), 'POSAPL_SHAPE', 'c');
      const x = big();
      expectError(() => broadcastAddForward(x, x, small(), B, L, C), 'POSAPL_ALIAS', 'out');
    });
    it('broadcastAddBackward', () => {
      expectError(() => broadcastAddBackward(new Float64Array(8) as unknown as Float32Array, big(), B, L, C), 'POSAPL_TYPE', 'ds');
      expectError(() => broadcastAddBackward(small(), new Float32Array(25), B, L, C), 'POSAPL_SHAPE', 'dout');
      expectError(() => broadcastAddBackward(small(), big(), B, L, 0), 'POSAPL_SHAPE', 'c');
      const shared = big();
      expectError(() => broadcastAddBackward(shared.subarray(4, 12), shared, B, L, C), 'POSAPL_ALIAS', 'ds');
    });
  });
});
