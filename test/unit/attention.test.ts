import { addon } from '../../src/native/addon';
import type { IsaName } from '../../src/native/addonApi';
import { attentionBackward, attentionForward } from '../../src/ops/attention';
import { dot, expectClose, finiteDifference, randomArray, sampleIndices } from '../helpers/numeric';
import { expectError } from '../helpers/errors';

interface Shape {
  b: number;
  l: number;
  h: number;
  d: number;
  causal: boolean;
}

/** Float64 reference of the forward and backward, straight from the definitions. */
function reference(qkv: Float32Array, dout: Float32Array, { b: B, l: L, h: H, d: D, causal }: Shape) {
  const R = 3 * H * D, HD = H * D, scale = 1 / Math.sqrt(D);
  const out = new Float64Array(B * L * HD), probs = new Float64Array(B * H * L * L);
  const dqkv = new Float64Array(B * L * R);
  const q = (b: number, t: number, h: number, d: number) => qkv[(b * L + t) * R + h * D + d];
  const k = (b: number, t: number, h: number, d: number) => qkv[(b * L + t) * R + HD + h * D + d];
  const v = (b: number, t: number, h: number, d: number) => qkv[(b * L + t) * R + 2 * HD + h * D + d];
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const n = causal ? i + 1 : L;
        const s: number[] = [];
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let d = 0; d < D; d++) acc += q(b, i, h, d) * k(b, j, h, d);
          s.push(acc * scale);
        }
        const mx = Math.max(...s);
        const e = s.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, c) => a + c, 0);
        const p = e.map((x) => x / z);
        const prow = ((b * H + h) * L + i) * L;
        p.forEach((pj, j) => (probs[prow + j] = pj));
        const orow = (b * L + i) * HD + h * D;
        const dorow = dout.subarray(orow, orow + D);
        for (let d = 0; d < D; d++) for (let j = 0; j < n; j++) out[orow + d] += p[j] * v(b, j, h, d);
        // backward of this query row
        const dp = p.map((_, j) => {
          let acc = 0;
          for (let d = 0; d < D; d++) acc += dorow[d] * v(b, j, h, d);
          return acc;
        });
        const pdp = p.reduce((a, pj, j) => a + pj * dp[j], 0);
        for (let j = 0; j < n; j++) {
          const ds = p[j] * (dp[j] - pdp) * scale;
          for (let d = 0; d < D; d++) {
            dqkv[(b * L + i) * R + h * D + d] += ds * k(b, j, h, d);
            dqkv[(b * L + j) * R + HD + h * D + d] += ds * q(b, i, h, d);
            dqkv[(b * L + j) * R + 2 * HD + h * D + d] += p[j] * dorow[d];
          }
        }
      }
    }
  }
  return { out, probs, dqkv };
}

function run(qkv: Float32Array, dout: Float32Array, s: Shape) {
  const out = new Float32Array(s.b * s.l * s.h * s.d), probs = new Float32Array(s.b * s.h * s.l * s.l).fill(NaN);
  attentionForward({ out, probs, qkv, ...s });
  const dqkv = new Float32Array(qkv.length).fill(NaN); // every element must be written
  attentionBackward({ dqkv, dout, qkv, probs, ...s });
  return { out, probs, dqkv };
}

describe('attentionForward / attentionBackward', () => {
  // Small shapes, odd widths (vector tails), the adapter's head width, and enough heads to use threads.
  const shapes: Shape[] = [
    { b: 2, l: 7, h: 2, d: 4, causal: false },
    { b: 2, l: 7, h: 2, d: 4, causal: true },
    { b: 1, l: 9, h: 3, d: 5, causal: true },
    { b: 2, l: 50, h: 4, d: 16, causal: false },
    { b: 1, l: 77, h: 2, d: 64, causal: true },
  ];
  it.each(shapes)('matches the float64 reference: %o (rtol 1e-4, atol 1e-5)', (s) => {
    const qkv = randomArray(s.b * s.l * 3 * s.h * s.d, 100 + s.l + s.d, 1.5);
    const dout = randomArray(s.b * s.l * s.h * s.d, 200 + s.l);
    const got = run(qkv, dout, s);
    const ref = reference(qkv, dout, s);
    expectClose(got.out, ref.out, 1e-4, 1e-5, 'out');
    expectClose(got.probs, ref.probs, 1e-4, 1e-6, 'probs'); // zeros above the diagonal when causal
    expectClose(got.dqkv, ref.dqkv, 1e-4, 1e-5, 'dqkv');
    const inference = new Float32Array(got.out.length);
    attentionForward({ out: inference, qkv, ...s });
    expect(Array.from(inference)).toEqual(Array.from(got.out));
  });

  it('stays finite and exact with scores in the hundreds (stable softmax)', () => {
    const s: Shape = { b: 1, l: 6, h: 2, d: 8, causal: false };
    const qkv = randomArray(6 * 3 * 16, 7, 40); // |q.k|/sqrt(D) up to ~1e3: exp would overflow unshifted
    const dout = randomArray(6 * 16, 8);
    const got = run(qkv, dout, s);
    const ref = reference(qkv, dout, s);
    expect(got.out.every(Number.isFinite) && got.dqkv.every(Number.isFinite)).toBe(true);
    expectClose(got.out, ref.out, 1e-4, 1e-4, 'out');
    expectClose(got.dqkv, ref.dqkv, 1e-3, 1e-3, 'dqkv');
  });

  it.each([false, true])('agrees with central finite differences (causal %s; h 1e-2, rtol 1e-2, atol 1e-3)', (causal) => {
    const s: Shape = { b: 2, l: 5, h: 2, d: 3, causal };
    const qkv = randomArray(2 * 5 * 3 * 6, causal ? 31 : 32);
    const g = randomArray(2 * 5 * 6, 33);
    const out = new Float32Array(g.length);
    const loss = () => {
      attentionForward({ out, qkv, ...s });
      return dot(out, g);
    };
    const { dqkv } = run(qkv, g, s);
    const idx = sampleIndices(qkv.length, 40, 34);
    expectClose(idx.map((i) => dqkv[i]), finiteDifference(qkv, idx, loss), 1e-2, 1e-3, 'dqkv vs FD');
  });

  it('gives the same results on every SIMD path as on the scalar one (rtol 1e-5, atol 1e-6)', () => {
    // Each path the CPU has, selected in process (addon.setIsa), on the same data.
    const s: Shape = { b: 2, l: 13, h: 3, d: 20, causal: true }; // d 20: one and two vectors a row
    const qkv = Float32Array.from({ length: s.b * s.l * 3 * s.h * s.d }, (_, i) => Math.sin(i * 0.37));
    const dout = Float32Array.from({ length: s.b * s.l * s.h * s.d }, (_, i) => Math.cos(i * 0.11));
    const order: IsaName[] = ['avx512', 'avx2', 'scalar'];
    const initial = addon().info().isa;
    const results = order.slice(order.indexOf(addon().info().supportedIsa)).map((isa) => {
      expect(addon().setIsa({ isa })).toBe(isa);
      const out = new Float32Array(dout.length), probs = new Float32Array(s.b * s.h * s.l * s.l);
      const dqkv = new Float32Array(qkv.length);
      attentionForward({ out, probs, qkv, ...s });
      attentionBackward({ dqkv, dout, qkv, probs, ...s });
      return { isa, out, dqkv };
    });
    addon().setIsa({ isa: initial });
    const scalar = results[results.length - 1];
    expect(scalar.isa).toBe('scalar');
    for (const r of results.slice(0, -1)) {
      expectClose(r.out, scalar.out, 1e-5, 1e-6, `out ${r.isa}`);
      expectClose(r.dqkv, scalar.dqkv, 1e-5, 1e-6, `dqkv ${r.isa}`);
    }
  });

  describe('argument errors', () => {
    const s = { b: 1, l: 2, h: 2, d: 3, causal: false };
    const fwd = () => ({ out: new Float32Array(12), probs: new Float32Array(8), qkv: new Float32Array(36), ...s });
    it('forward: kind, length, dims, aliasing', () => {
      expectError(() => attentionForward({ ...fwd(), qkv: new Float64Array(36) as unknown as Float32Array }), 'POSAPL_TYPE', 'qkv');
      expectError(() => attentionForward({ ...fwd(), probs: new Float32Array(4) }), 'POSAPL_SHAPE', 'probs');
      expectError(() => attentionForward({ ...fwd(), h: 0 }), 'POSAPL_SHAPE', 'h');
      expectError(() => attentionForward({ ...fwd(), d: 2.5 }), 'POSAPL_SHAPE', 'd');
      expectError(() => attentionForward({ ...fwd(), causal: 1 as unknown as boolean }), 'POSAPL_TYPE', 'causal');
      const shared = new Float32Array(48);
      expectError(
        () => attentionForward({ ...fwd(), out: shared.subarray(30, 42), qkv: shared.subarray(0, 36) }),
        'POSAPL_ALIAS', 'out',
      );
    });
    const bwd = () => ({
      dqkv: new Float32Array(36), dout: new Float32Array(12), qkv: new Float32Array(36), probs: new Float32Array(8), ...s,
    });
    it('backward: kind, length, dims, aliasing', () => {
      expectError(() => attentionBackward({ ...bwd(), probs: new Float64Array(8) as unknown as Float32Array }), 'POSAPL_TYPE', 'probs');
      expectError(() => attentionBackward({ ...bwd(), dout: new Float32Array(11) }), 'POSAPL_SHAPE', 'dout');
      expectError(() => attentionBackward({ ...bwd(), l: -2 }), 'POSAPL_SHAPE', 'l');
      const args = bwd();
      expectError(() => attentionBackward({ ...args, dqkv: args.qkv }), 'POSAPL_ALIAS', 'dqkv');
    });
  });
});
