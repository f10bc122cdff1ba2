// Values and gradients of attention on every shape and SIMD path (the model's heads, small odd
// shapes, scores in the hundreds) are the op harness's (test/unit/opHarness.test.ts); here: the
// inference call's exactness and the argument errors.
import { attentionBackward, attentionForward } from '../../src/ops/attention';
import { randomArray } from '../helpers/numeric';
import { expectError } from '../helpers/errors';

describe('attentionForward / attentionBackward', () => {
  it.each([false, true])('gives the same out without probs (inference) as with them, exactly (causal %s)', (causal) => {
    const s = { b: 2, l: 13, h: 3, d: 20, causal };
    const qkv = randomArray(s.b * s.l * 3 * s.h * s.d, 5, 1.5);
    const out = new Float32Array(s.b * s.l * s.h * s.d), probs = new Float32Array(s.b * s.h * s.l * s.l);
    attentionForward({ out, probs, qkv, ...s });
    const inference = new Float32Array(out.length);
    attentionForward({ out: inference, qkv, ...s });
    expect(Array.from(inference)).toEqual(Array.from(out));
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
