/** The per-op profiler: native calls are counted and timed only while a profile runs. */
import { startProfile, stopProfile } from '../../src/native/profile';
import { gemm } from '../../src/ops/gemm';
import { layerNormForward } from '../../src/ops/layernorm';

describe('startProfile / stopProfile', () => {
  it('counts each native function (GEMMs by transposes and shape) and nothing outside the profile', () => {
    const a = new Float32Array(64 * 32).fill(0.5);
    const b = new Float32Array(32 * 16).fill(0.25);
    const c = new Float32Array(64 * 16);
    gemm({ c, a, b, m: 64, n: 16, k: 32 }); // before: not counted
    startProfile();
    gemm({ c, a, b, m: 64, n: 16, k: 32 });
    gemm({ c, a, b, m: 64, n: 16, k: 32 });
    gemm({ c, a, b: new Float32Array(16 * 32), m: 64, n: 16, k: 32, transB: true });
    const x = new Float32Array(8 * 4).fill(1);
    layerNormForward({ out: new Float32Array(32), x, weight: new Float32Array(4).fill(1), bias: new Float32Array(4), n: 8, c: 4, mean: new Float32Array(8), rstd: new Float32Array(8) });
    const profile = stopProfile();
    gemm({ c, a, b, m: 64, n: 16, k: 32 }); // after: not counted
    const byOp = Object.fromEntries(profile.map((p) => [p.op, p]));
    expect(Object.keys(byOp).sort()).toEqual(['gemm nn 64x16x32', 'gemm nt 64x16x32', 'layerNormForward']);
    expect(byOp['gemm nn 64x16x32'].calls).toBe(2);
    expect(byOp['gemm nt 64x16x32'].calls).toBe(1);
    for (const p of profile) expect(p.ms).toBeGreaterThan(0);
    // Slowest first.
    expect(profile.map((p) => p.ms)).toEqual([...profile.map((p) => p.ms)].sort((x, y) => y - x));
    expect(c[0]).toBeCloseTo(32 * 0.5 * 0.25, 5); // the wrapped calls still compute
  });

  it('keeps the error of a failing native call and still counts it', () => {
    startProfile();
    expect(() => gemm({ c: new Float32Array(1), a: new Float32Array(2), b: new Float32Array(1), m: 1, n: 1, k: 1 })).toThrow(/\ba\b/);
    const profile = stopProfile();
    expect(profile.map((p) => [p.op, p.calls])).toEqual([['gemm nn 1x1x1', 1]]);
  });
});
