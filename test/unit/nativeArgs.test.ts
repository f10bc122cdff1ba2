// Native ops read their arguments by name from one object, so the name is what binds an array
// to its role: key order is irrelevant, a positional call is refused, and a missing or unknown
// name is a coded error instead of a silent swap of two same-sized weights.
import { addon } from '../../src/native/addon';
import type { NativeSideFusionForwardArgs } from '../../src/native/addonApi';
import { sideFusionSizes } from '../../src/ops';

const d = { n: 2, l: 3, c: 4, chained: true, mean: true };
const tap = () => new Float32Array(d.n * d.l * d.c);
const weight = () => new Float32Array(d.c * d.c);
const bias = () => new Float32Array(d.c);

function fill(a: Float32Array, seed: number): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(seed * 1.7 + i * 0.61);
  return a;
}

// Four (C,C) weights of the same length: positional checks could not tell them apart.
function args(): NativeSideFusionForwardArgs {
  const sizes = sideFusionSizes(d);
  return {
    s4: new Float32Array(d.n * d.c), saved: new Float32Array(sizes.saved),
    f1: fill(tap(), 1), f2: fill(tap(), 2), f3: fill(tap(), 3), f4: fill(tap(), 4),
    w1: fill(weight(), 5), b1: fill(bias(), 6), w2: fill(weight(), 7), b2: fill(bias(), 8),
    w3: fill(weight(), 9), b3: fill(bias(), 10), w4: fill(weight(), 11), b4: fill(bias(), 12),
    ...d,
  };
}

function error(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('native calls by name', () => {
  it('binds by name: the same object in reversed key order gives the bit-identical result', () => {
    const a = args();
    addon().sideFusionForward(a);
    const reversed = Object.fromEntries(Object.entries(args()).reverse()) as unknown as NativeSideFusionForwardArgs;
    addon().sideFusionForward(reversed);
    expect(Array.from(a.s4).some((v) => v !== 0)).toBe(true);
    expect(Array.from(reversed.s4)).toEqual(Array.from(a.s4));
  });

  it('a swap of two same-sized weights must be written as one, and then changes the result', () => {
    const a = args();
    addon().sideFusionForward(a);
    const swapped = args();
    [swapped.w1, swapped.w2] = [swapped.w2, swapped.w1];
    addon().sideFusionForward(swapped);
    expect(Array.from(swapped.s4)).not.toEqual(Array.from(a.s4));
  });

  it('refuses the old positional call', () => {
    const a = args();
    const e = error(() => (addon().sideFusionForward as unknown as (...x: unknown[]) => void)(a.s4, a.saved, a.f1, a.f2));
    expect(e.code).toBe('POSAPL_ARGS');
    expect(e.message).toContain('posapl.sideFusionForward: Expected 1 argument (an object of named arguments) but received 4');
  });

  it('names a missing weight and an unknown name with POSAPL_ARGS', () => {
    const missing: Partial<NativeSideFusionForwardArgs> = args();
    delete missing.w3;
    const e1 = error(() => addon().sideFusionForward(missing as NativeSideFusionForwardArgs));
    expect(e1.code).toBe('POSAPL_ARGS');
    expect(e1.message).toContain('Missing argument w3: Expected Float32Array of length 16 for w3');
    const e2 = error(() => addon().sideFusionForward({ ...args(), w5: weight() } as NativeSideFusionForwardArgs));
    expect(e2.code).toBe('POSAPL_ARGS');
    expect(e2.message).toContain('Unknown argument w5');
  });

  it('refuses f4 for end-add Side Fusion by name', () => {
    const e = error(() => addon().sideFusionForward({ ...args(), chained: false, saved: new Float32Array(sideFusionSizes({ ...d, chained: false }).saved) }));
    expect(e.code).toBe('POSAPL_TYPE');
    expect(e.message).toContain('Expected null for f4 (end-add Side Fusion has no fourth tap)');
  });
});
