import { spawnSync } from 'child_process';
import * as path from 'path';
import { nativeInfo } from '../../src/native/addon';
import { randomArray } from '../helpers/numeric';

// activationBackward on every SIMD path (the path is chosen once per process, so each runs in a
// child started with POSAPL_ISA) against a float64 reference of dy * act'(pre).

// Globals looked up once: under jest every lookup of a global such as Math goes through the vm
// context's interceptors and costs more than the maths (see gemm.cases.js).
const { abs, exp, sqrt, PI, SQRT2 } = Math;
const { isFinite, isNaN } = Number;

// erfc(z), z >= 0, in double: 1 - (Taylor series of erf) below 3, where the largest term is
// ~e^9 and rounding stays below 1e-14; a continued fraction above, where it converges fast.
function erfc(z: number): number {
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; abs(term) > 1e-17 * abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / sqrt(PI)) * sum;
  }
  // erfc(z) = e^{-z^2} / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))).
  let tail = z;
  for (let k = 80; k >= 1; k--) tail = z + k / 2 / tail;
  return exp(-z * z) / sqrt(PI) / tail;
}

/** GELU'(x) = Phi(x) + x phi(x), with Phi from erfc so the left tail keeps its digits. */
function geluGrad(x: number): number {
  const half = 0.5 * erfc(abs(x) / SQRT2);
  const cdf = x < 0 ? half : 1 - half;
  return cdf + (x * exp(-0.5 * x * x)) / sqrt(2 * PI);
}

const ACTIVATIONS = [0, 1, 2] as const; // none, relu, gelu
const SENTINEL = 12345;
const PAD = 16; // slots past n in each output, which must keep SENTINEL

// The child: reads every case's pre then dy (float32) from stdin and writes the ISA's name
// (8 bytes) then, per case and activation, dx followed by PAD sentinels: dx is a view of
// length n into that buffer, so a store past n shows.
const CHILD = `
const addon = require(${JSON.stringify(path.resolve(__dirname, '../../build/Release/posapl.node'))});
const lengths = JSON.parse(process.argv[1]);
const input = require('fs').readFileSync(0);
const floats = new Float32Array(input.buffer, input.byteOffset, input.length / 4);
const outputs = [Buffer.from(addon.info().isa.padEnd(8))];
let at = 0;
for (const n of lengths) {
  const pre = floats.slice(at, at + n);
  const dy = floats.slice(at + n, at + 2 * n);
  at += 2 * n;
  for (const act of ${JSON.stringify(ACTIVATIONS)}) {
    const dx = new Float32Array(n + ${PAD}).fill(${SENTINEL});
    addon.activationBackward({ dx: dx.subarray(0, n), dy, pre, n, activation: act });
    outputs.push(Buffer.from(dx.buffer));
  }
}
process.stdout.write(Buffer.concat(outputs));
`;

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

function expectedDx(act: number, pre: Float32Array, dy: Float32Array): Float64Array {
  return Float64Array.from(pre, (x, i) => {
    if (act === 1) return x > 0 ? dy[i] : 0;
    if (act === 2) return isFinite(x) ? dy[i] * geluGrad(x) : NaN;
    return dy[i];
  });
}

function runPath(isa: string, all: Case[]): { isa: string; dx: Float32Array[][] } {
  const input = Buffer.concat(all.flatMap((c) => [Buffer.from(c.pre.buffer), Buffer.from(c.dy.buffer)]));
  const r = spawnSync(process.execPath, ['-e', CHILD, JSON.stringify(all.map((c) => c.pre.length))], {
    // Three threads: parallel_for's ranges then start at offsets that are not multiples of 16.
    env: { ...process.env, POSAPL_ISA: isa, POSAPL_THREADS: '3' },
    input,
    maxBuffer: 1 << 26,
  });
  expect(r.stderr.toString()).toBe('');
  expect(r.status).toBe(0);
  const out = r.stdout;
  let at = 8;
  const dx = all.map((c) =>
    ACTIVATIONS.map(() => {
      const bytes = (c.pre.length + PAD) * 4;
      const view = new Float32Array(out.buffer.slice(out.byteOffset + at, out.byteOffset + at + bytes));
      at += bytes;
      return view;
    }),
  );
  expect(at).toBe(out.length);
  return { isa: out.subarray(0, 8).toString().trim(), dx };
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
  const order = ['scalar', 'avx2', 'avx512'] as const;
  const best = order.indexOf(nativeInfo().isa);
  const available = order.slice(0, best + 1);
  const results = new Map<string, { isa: string; dx: Float32Array[][] }>();
  let expected: Float64Array[][] = [];
  beforeAll(() => {
    expected = all.map((c) => ACTIVATIONS.map((act) => expectedDx(act, c.pre, c.dy)));
    for (const isa of available) results.set(isa, runPath(isa, all));
  });

  for (const isa of order) {
    (available.includes(isa) ? it : it.skip)(`matches the float64 reference on the ${isa} path (POSAPL_ISA=${isa})`, () => {
      const run = results.get(isa)!;
      expect(run.isa).toBe(isa);
      const failures = all.flatMap((c, ci) =>
        ACTIVATIONS.flatMap((act) => {
          const dx = run.dx[ci][act];
          const n = c.pre.length;
          const label = `${isa} act ${act} ${c.name}`;
          const untouched = dx.subarray(n).every((v) => v === SENTINEL) ? [] : [`${label}: wrote past n`];
          // none and relu copy or zero dy: exact.
          const [rtol, atol] = act === 2 ? [RTOL, ATOL] : [0, 0];
          return [...untouched, ...mismatch(label, dx.subarray(0, n), expected[ci][act], rtol, atol)];
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
        const dx = results.get(isa)!.dx[ci][2].subarray(0, n);
        return mismatch(`${isa} vs scalar, ${c.name}`, dx, scalar.dx[ci][2].subarray(0, n), 1e-6, 1e-6);
      }),
    );
    expect(failures).toEqual([]);
  });
});
