/**
 * The bf16 GEMM: packing layout and rounding against an independent TypeScript computation,
 * the AMX kernel against the plain reference on shapes with every edge, the fallback where AMX
 * is off, and argument checks.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { addon } from '../../src/native/addon';
import { bf16Available, bf16Pack, bf16PackedSize, gemmBf16, gemmBf16Reference } from '../../src/ops/gemmBf16';
import { expectError } from '../helpers/errors';
import { randomArray } from '../helpers/numeric';

// Round to nearest even, written independently of the native code: via Float32Array bits.
function toBf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  const bits = u[0];
  const lower = bits & 0xffff;
  let upper = bits >>> 16;
  if (lower > 0x8000 || (lower === 0x8000 && (upper & 1) === 1)) upper += 1;
  u[0] = (upper << 16) >>> 0;
  return f[0];
}

interface Case {
  m: number;
  n: number;
  k: number;
  trans: boolean;
  alpha?: number;
  beta?: number;
  bias?: boolean;
  activation?: 'none' | 'relu' | 'gelu';
  pre?: boolean;
  aActivation?: 'relu' | 'gelu';
  residual?: boolean;
}

function operands(c: Case, seed: number) {
  const a = randomArray(c.m * c.k, seed);
  const w = randomArray(c.k * c.n, seed + 1); // (k,n), or (n,k) when trans
  const bias = c.bias ? randomArray(c.n, seed + 2) : null;
  const c0 = randomArray(c.m * c.n, seed + 3);
  return { a, w, bias, c0 };
}

describe('bf16Pack + gemmBf16Reference', () => {
  it('computes bf16(A) bf16(op(B)) exactly as an independent double-precision sum, for both layouts', () => {
    for (const c of [
      { m: 3, n: 5, k: 7, trans: false }, { m: 2, n: 40, k: 33, trans: true }, { m: 1, n: 1, k: 1, trans: true },
      { m: 4, n: 33, k: 65, trans: false, alpha: -0.5, beta: 1, bias: true },
    ] as Case[]) {
      const { a, w, bias, c0 } = operands(c, 10 + c.n);
      const packed = bf16Pack(w, c.k, c.n, c.trans);
      expect(packed.length).toBe(Math.ceil(c.k / 32) * 32 * Math.ceil(c.n / 32) * 32);
      const got = Float32Array.from(c0);
      gemmBf16Reference({ c: got, a, packed, m: c.m, n: c.n, k: c.k, alpha: c.alpha, beta: c.beta, bias });
      for (let i = 0; i < c.m; i++) {
        for (let j = 0; j < c.n; j++) {
          let s = 0;
          for (let p = 0; p < c.k; p++) s += toBf16(a[i * c.k + p]) * toBf16(c.trans ? w[j * c.k + p] : w[p * c.n + j]);
          let want = Math.fround((c.alpha ?? 1) * Math.fround(s));
          if (c.beta) want = Math.fround(want + Math.fround(c.beta * c0[i * c.n + j]));
          if (bias) want = Math.fround(want + bias[j]);
          expect(got[i * c.n + j]).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('rounds to nearest, ties to even, as torch does', () => {
    // 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7: ties go to the even 1; 1 + 3 * 2^-8 to 1 + 2^-6.
    const cases: Array<[number, number]> = [[1 + 2 ** -8, 1], [1 + 3 * 2 ** -8, 1 + 2 ** -6], [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], [-(1 + 2 ** -8), -1]];
    for (const [x, want] of cases) {
      const c = new Float32Array(1);
      gemmBf16Reference({ c, a: new Float32Array([1]), packed: bf16Pack(new Float32Array([x]), 1, 1, false), m: 1, n: 1, k: 1 });
      expect(c[0]).toBe(want);
      expect(toBf16(x)).toBe(want);
    }
  });
});

const AMX = bf16Available();

(AMX ? describe : describe.skip)('gemmBf16 (AMX)', () => {
  // Edges in M (tiles of 16, blocks of 32, row chunks), N (16-column panels, 32-column blocks)
  // and K (steps of 32); thread splits; every epilogue.
  const CASES: Case[] = [
    { m: 1, n: 1, k: 1, trans: true },
    { m: 17, n: 33, k: 65, trans: false, bias: true },
    { m: 32, n: 32, k: 32, trans: true, beta: 1 },
    { m: 50, n: 48, k: 100, trans: true, alpha: 0.5, beta: 0.75, bias: true, activation: 'relu', pre: true },
    { m: 77, n: 130, k: 31, trans: false, bias: true, activation: 'gelu', pre: true },
    { m: 700, n: 96, k: 1600, trans: true, beta: 1, activation: 'gelu' },
    { m: 200, n: 1000, k: 64, trans: false, alpha: -2, bias: true },
    // The MLP's fused form: GELU applied to A as it is read.
    { m: 45, n: 70, k: 200, trans: true, aActivation: 'gelu', bias: true },
    { m: 33, n: 64, k: 96, trans: false, aActivation: 'relu', beta: 1 },
    // A residual added in the epilogue (attention's out_proj).
    { m: 70, n: 48, k: 64, trans: true, bias: true, residual: true },
  ];
  it.each(CASES)('matches the reference at %j', (c) => {
    const { a, w, bias, c0 } = operands(c, c.m + c.n + c.k);
    const packed = bf16Pack(w, c.k, c.n, c.trans);
    const residual = c.residual ? randomArray(c.m * c.n, 6) : null;
    const common = { a, packed, m: c.m, n: c.n, k: c.k, alpha: c.alpha, beta: c.beta, bias, activation: c.activation, aActivation: c.aActivation, residual };
    const got = Float32Array.from(c0);
    const want = Float32Array.from(c0);
    const gotPre = c.pre ? new Float32Array(c.m * c.n) : null;
    const wantPre = c.pre ? new Float32Array(c.m * c.n) : null;
    gemmBf16({ ...common, c: got, pre: gotPre });
    gemmBf16Reference({ ...common, c: want, pre: wantPre });
    // Products of two bf16 are exact in fp32; only the order of the fp32 sums differs.
    const tol = 2e-6 * c.k + 1e-6;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    expect(worst).toBeLessThan(tol);
    if (gotPre && wantPre) {
      for (let i = 0; i < gotPre.length; i++) worst = Math.max(worst, Math.abs(gotPre[i] - wantPre[i]) / (1 + Math.abs(wantPre[i])));
      expect(worst).toBeLessThan(tol);
    }
  });

  it('stays within bf16 rounding of the fp32 product', () => {
    const m = 64, n = 64, k = 768;
    const a = randomArray(m * k, 1), w = randomArray(n * k, 2);
    const got = new Float32Array(m * n);
    gemmBf16({ c: got, a, packed: bf16Pack(w, k, n, true), m, n, k });
    let err = 0, norm = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p] * w[j * k + p];
        err += (got[i * n + j] - s) ** 2;
        norm += s * s;
      }
    }
    // Two roundings of relative size 2^-9 each, random signs: about 2^-9 of the norm.
    expect(Math.sqrt(err / norm)).toBeLessThan(6e-3);
    expect(Math.sqrt(err / norm)).toBeGreaterThan(1e-4);
  });
});

describe('argument checks', () => {
  const raw = () => addon() as unknown as Record<string, (args: Record<string, unknown>) => void>;
  it('names the packed operand when its length or kind is wrong', () => {
    const c = new Float32Array(4), a = new Float32Array(4);
    expectError(() => raw().gemmBf16Reference({ c: c, pre: null, a: a, packed: new Uint16Array(10), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 0, aActivation: 0, residual: null }), 'POSAPL_SHAPE', 'packed');
    expectError(() => raw().gemmBf16Reference({ c: c, pre: null, a: a, packed: new Float32Array(bf16PackedSize(2, 2)), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 0, aActivation: 0, residual: null }), 'POSAPL_TYPE', 'packed');
    expectError(() => raw().bf16Pack({ packed: new Uint16Array(bf16PackedSize(2, 2)), b: new Float32Array(3), k: 2, n: 2, trans: false }), 'POSAPL_SHAPE', 'b');
    expectError(() => raw().bf16Pack({ packed: new Uint16Array(5), b: new Float32Array(4), k: 2, n: 2, trans: false }), 'POSAPL_SHAPE', 'packed');
    expectError(() => raw().gemmBf16Reference({ c: c, pre: null, a: a, packed: new Uint16Array(bf16PackedSize(2, 2)), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 3, aActivation: 0, residual: null }), 'POSAPL_SHAPE', 'activation');
  });

  it('names aActivation when it is unknown, and residual when its length is wrong', () => {
    const c = new Float32Array(4), a = new Float32Array(4);
    expectError(() => raw().gemmBf16Reference({ c: c, pre: null, a: a, packed: new Uint16Array(bf16PackedSize(2, 2)), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 0, aActivation: 0, residual: new Float32Array(3) }), 'POSAPL_SHAPE', 'residual');
    expectError(() => raw().gemmBf16Reference({ c: c, pre: null, a: a, packed: new Uint16Array(bf16PackedSize(2, 2)), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 0, aActivation: 5, residual: null }), 'POSAPL_SHAPE', 'aActivation');
  });

  it('refuses an output that overlaps an input', () => {
    const buf = new Float32Array(8);
    expectError(() => raw().gemmBf16Reference({ c: buf.subarray(0, 4), pre: null, a: buf.subarray(2, 6), packed: new Uint16Array(bf16PackedSize(2, 2)), bias: null, m: 2, n: 2, k: 2, alpha: 1, beta: 0, activation: 0, aActivation: 0, residual: null }), 'POSAPL_ALIAS', 'c');
  });
});

describe('where AMX is off', () => {
  it.each([{ POSAPL_ISA: 'avx2' }, { POSAPL_BF16: 'none' }])('(%j) reports bf16 unavailable, refuses gemmBf16 with a clear error, and a bf16 model runs fp32', (env) => {
    const script = `
      const { nativeInfo, loadModel, ops } = require(${JSON.stringify(path.resolve(__dirname, '../../lib'))});
      (async () => {
        const out = { bf16: nativeInfo().bf16 };
        try { ops.gemmBf16({ c: new Float32Array(1), a: new Float32Array(1), packed: new Uint16Array(1024), m: 1, n: 1, k: 1 }); }
        catch (e) { out.code = e.code; out.message = e.message; }
        const config = {
          embed_dim: 8, vision_cfg: { image_size: 32, patch_size: 16, width: 16, layers: 2, head_width: 8 },
          text_cfg: { context_length: 8, vocab_size: 50, width: 16, heads: 2, layers: 2 }, posapl: { down_dim: 8, sa_heads: 2 },
        };
        const model = await loadModel({ random: true, config, precision: 'bf16' });
        out.precision = model.precision;
        console.log(JSON.stringify(out));
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim());
    expect(out).toMatchObject({ bf16: false, code: 'POSAPL_NO_BF16', precision: 'fp32' });
    expect(out.message).toMatch(/AMX-BF16/);
  });
});
