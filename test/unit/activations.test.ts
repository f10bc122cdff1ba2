// activationBackward on every SIMD path, selected in process (addon.setIsa) at 3 threads (so
// parallel_for's ranges start at offsets that are not multiples of 16): a dense sweep of 1M
// values and the special ones (huge, signed zeros, denormals, non-finite) against the float64
// reference, with sentinels after n that must survive. Random values at small and model sizes
// are the op harness's (test/unit/opHarness.test.ts).
import { addon } from '../../src/native/addon';
import type { IsaName } from '../../src/native/addonApi';
import { activationBackward, type Activation } from '../../src/ops/gemm';
import { geluGrad } from '../../src/opHarness/references';
import { randomArray } from '../helpers/numeric';

// Globals looked up once: under jest every lookup of a global such as Math goes through the vm
// context's interceptors and costs more than the maths.
const { abs } = Math;
const { isFinite, isNaN } = Number;

const ACTIVATIONS: Activation[] = ['none', 'relu', 'gelu'];
const SENTINEL = 12345;
const PAD = 16; // slots past n in each output, which must keep SENTINEL

interface Case {
  name: string;
  pre: Float32Array;
  dy: Float32Array;
}

function cases(): Case[] {
  const big = 1000003;
  // A dense sweep of [-12, 12] (GELU' goes from ~0 through its 1.13 peak to ~1) with dy = 1, so
  // the gradient itself is compared; the lengths leave 1, 15 and 3 lanes in the last step.
  const sweep = Float32Array.from({ length: big }, (_, i) => -12 + (24 * i) / (big - 1));
  const out: Case[] = [{ name: `sweep of [-12, 12], n ${big}`, pre: sweep, dy: new Float32Array(big).fill(1) }];
  for (const n of [1, 15, 17, 1000]) {
    out.push({ name: `random, n ${n}`, pre: randomArray(n, 40 + n, 8), dy: randomArray(n, 41 + n) });
  }
  // Past exp's range (-x^2/2 < -87), huge, signed zeros, the largest float, a denormal, and
  // non-finite values: GELU' of +-inf is NaN on every path (inf * e^-inf in the scalar form).
  const special = [13, -13, 13.5, -13.5, 20, -20, 1e30, -1e30, 3.4028234e38, -3.4028234e38, 0, -0, 1e-40, -1e-40,
    5.6, -5.6, 6.5, -6.5, NaN, Infinity, -Infinity];
  out.push({ name: 'special values', pre: Float32Array.from(special), dy: new Float32Array(special.length).fill(1) });
  return out;
}

function expectedDx(act: Activation, pre: Float32Array, dy: Float32Array): Float64Array {
  return Float64Array.from(pre, (x, i) => {
    if (act === 'relu') return x > 0 ? dy[i] : 0;
    if (act === 'gelu') return isFinite(x) ? dy[i] * geluGrad(x) : NaN;
    return dy[i];
  });
}

/** dx of every case and activation on one path, each followed by PAD sentinels (a view of n into it). */
function runPath(isa: IsaName, all: Case[]): Float32Array[][] {
  expect(addon().setIsa({ isa })).toBe(isa);
  return all.map((c) =>
    ACTIVATIONS.map((act) => {
      const n = c.pre.length;
      const dx = new Float32Array(n + PAD).fill(SENTINEL);
      activationBackward(dx.subarray(0, n), c.dy, c.pre, n, act);
      return dx;
    }),
  );
}

// |got - want| <= ATOL + RTOL |want|, want in float64. The scalar float32 form loses up to ~6e-8
// absolute to 1 + erf cancelling in the left tail and ~1e-7 relative to erf, exp and rounding;
// the SIMD erf and exp are within 2 ulp of std::erf and std::exp. Seen: <= 1.6e-7 on every path.
const ATOL = 2e-6;
const RTOL = 2e-6;

// The worst element outside |got - want| <= atol + rtol |want|, as a message; NaN must meet NaN.
function mismatch(label: string, got: Float32Array, want: ArrayLike<number>, rtol: number, atol: number): string[] {
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const excess = isNaN(want[i])
      ? (isNaN(got[i]) ? -1 : Infinity)
      : abs(got[i] - want[i]) - (atol + rtol * abs(want[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  return worst < 0 ? [] : [`${label}: dx[${worst}] = ${got[worst]}, expected ${want[worst]}`];
}

describe('activationBackward on every SIMD path', () => {
  const all = cases();
  const order: IsaName[] = ['scalar', 'avx2', 'avx512'];
  const best = order.indexOf(addon().info().supportedIsa);
  const available = order.slice(0, best + 1);
  const initial = { isa: addon().info().isa, threads: addon().info().threads };
  const results = new Map<IsaName, Float32Array[][]>();
  let expected: Float64Array[][] = [];
  beforeAll(() => {
    expected = all.map((c) => ACTIVATIONS.map((act) => expectedDx(act, c.pre, c.dy)));
    addon().setThreads({ threads: 3 });
    for (const isa of available) results.set(isa, runPath(isa, all));
  });
  afterAll(() => {
    addon().setIsa({ isa: initial.isa });
    addon().setThreads({ threads: initial.threads });
  });

  for (const isa of order) {
    (available.includes(isa) ? it : it.skip)(`matches the float64 reference on the ${isa} path`, () => {
      const run = results.get(isa)!;
      const failures = all.flatMap((c, ci) =>
        ACTIVATIONS.flatMap((act, ai) => {
          const dx = run[ci][ai];
          const n = c.pre.length;
          const label = `${isa} ${act} ${c.name}`;
          const untouched = dx.subarray(n).every((v) => v === SENTINEL) ? [] : [`${label}: wrote past n`];
          // none and relu copy or zero dy: exact.
          const [rtol, atol] = act === 'gelu' ? [RTOL, ATOL] : [0, 0];
          return [...untouched, ...mismatch(label, dx.subarray(0, n), expected[ci][ai], rtol, atol)];
        }),
      );
      expect(failures).toEqual([]);
    });
  }

  (best > 0 ? it : it.skip)('gives GELU\' within 1e-6 absolute + 1e-6 relative of the scalar gelu_grad', () => {
    const scalar = results.get('scalar')!;
    const failures = available.slice(1).flatMap((isa) =>
      all.flatMap((c, ci) => {
        const n = c.pre.length;
        const dx = results.get(isa)![ci][2].subarray(0, n);
        return mismatch(`${isa} vs scalar, ${c.name}`, dx, scalar[ci][2].subarray(0, n), 1e-6, 1e-6);
      }),
    );
    expect(failures).toEqual([]);
  });
});
