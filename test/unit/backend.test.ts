/** The CPU backend and the arena: allocation, views, host hand-offs, freeing, and what ops refuse. */
import { carveArena } from '../../src/backend/arena';
import { CpuBackend } from '../../src/backend/cpu';
import { createBackend } from '../../src/backend';
import { Tensor } from '../../src/backend/tensor';

describe('CPU backend', () => {
  it('counts what it allocates and frees, and zero-fills', () => {
    const be = new CpuBackend();
    const t = be.alloc([3, 4]);
    expect(t.shape).toEqual([3, 4]);
    expect(t.size).toBe(12);
    expect(t.dtype).toBe('f32');
    expect([...(be.toHost(t) as Float32Array)]).toEqual(new Array(12).fill(0));
    const ids = be.alloc([5], 'i32');
    expect(be.toHost(ids)).toBeInstanceOf(Int32Array);
    expect(be.allocations).toEqual({ count: 2, bytes: 48 + 20, liveBytes: 68 });
    be.free(t);
    expect(be.allocations.liveBytes).toBe(20);
    // Freed memory is detached: every view of it is empty.
    expect((t.storage as Float32Array).length).toBe(0);
    be.freeAll();
    expect(be.allocations.liveBytes).toBe(0);
  });

  it('shares host arrays both ways without copying', () => {
    const be = new CpuBackend();
    const a = new Float32Array([1, 2, 3, 4]);
    const t = be.fromHost(a, [2, 2]);
    expect(be.toHost(t)).toBe(a);
    expect(be.allocations.count).toBe(0);
    const out = be.alloc([2]);
    const host = be.takeHost(out);
    be.freeAll();
    // What was handed to the caller is the caller's: freeAll leaves it.
    expect(host.length).toBe(2);
    expect(() => be.fromHost(a, [3])).toThrow(/4 elements do not make shape \[3\]/);
  });

  it('runs ops on tensors and refuses host arrays and other devices', () => {
    const be = new CpuBackend();
    const y = be.fromHost(new Float32Array([1, 2, 3]), [3]);
    const x = be.fromHost(new Float32Array([10, 20, 30]), [3]);
    be.axpy(y, x, 0.5, 3);
    expect([...(be.toHost(y) as Float32Array)]).toEqual([6, 12, 18]);
    const c = be.alloc([1, 1]);
    be.gemm({ c, a: be.fromHost(new Float32Array([1, 2]), [1, 2]), b: be.fromHost(new Float32Array([3, 4]), [2, 1]), m: 1, n: 1, k: 2 });
    expect((be.toHost(c) as Float32Array)[0]).toBe(11);
    expect(() => be.gemm({ c, a: new Float32Array(2) as unknown as Tensor, b: c, m: 1, n: 1, k: 1 })).toThrow(
      expect.objectContaining({ code: 'POSAPL_INTERNAL' }),
    );
    const elsewhere = new Tensor([3], 'f32', 'cuda', null);
    expect(() => be.axpy(y, elsewhere, 1, 3)).toThrow(expect.objectContaining({ code: 'POSAPL_DEVICE' }));
  });

  it('gathers, scatters and finds EOT rows', () => {
    const be = new CpuBackend();
    // x (2,3,2): row (i,j) = [10i+j, -(10i+j)]
    const x = be.fromHost(Float32Array.from({ length: 12 }, (_, k) => (k % 2 ? -1 : 1) * (10 * Math.floor(k / 6) + Math.floor((k % 6) / 2))), [2, 3, 2]);
    const index = be.alloc([2], 'i32');
    be.argmaxRows(index, be.fromHost(new Int32Array([1, 7, 7, 9, 2, 3]), [2, 3]), 2, 3);
    expect([...(be.toHost(index) as Int32Array)]).toEqual([1, 0]);
    const rows = be.alloc([2, 2]);
    be.gatherRows(rows, x, index, 2, 3, 2);
    expect([...(be.toHost(rows) as Float32Array)]).toEqual([1, -1, 10, -10]);
    const dx = be.fromHost(new Float32Array(12).fill(7), [2, 3, 2]);
    be.scatterRows(dx, rows, index, 2, 3, 2);
    expect([...(be.toHost(dx) as Float32Array)]).toEqual([0, 0, 1, -1, 0, 0, 10, -10, 0, 0, 0, 0]);
    be.scatterAddRows(dx, rows, index, 2, 3, 2);
    expect([...(be.toHost(dx) as Float32Array)]).toEqual([0, 0, 2, -2, 0, 0, 20, -20, 0, 0, 0, 0]);
  });

  it("refuses device 'cuda' with POSAPL_NO_CUDA", () => {
    expect(() => createBackend('cuda')).toThrow(expect.objectContaining({ code: 'POSAPL_NO_CUDA' }));
  });
});

describe('carveArena', () => {
  it('carves every tensor from one zero-filled allocation, aligned and without overlap', () => {
    const be = new CpuBackend();
    let builds = 0;
    const arena = carveArena(be, (carve) => {
      builds += 1;
      return { a: carve.f32(3, 5), b: carve.i32(7), c: carve.f32() };
    });
    expect(builds).toBe(2);
    expect(be.allocations.count).toBe(1);
    const { a, b, c } = arena.tensors;
    expect([a.shape, b.shape, c.shape]).toEqual([[3, 5], [7], []]);
    const fa = be.toHost(a) as Float32Array;
    const ib = be.toHost(b) as Int32Array;
    const fc = be.toHost(c) as Float32Array;
    expect(ib).toBeInstanceOf(Int32Array);
    expect([fa.length, ib.length, fc.length]).toEqual([15, 7, 1]);
    for (const view of [fa, ib, fc]) expect(view.byteOffset % 64).toBe(0);
    expect(fa.every((v) => v === 0) && ib.every((v) => v === 0) && fc[0] === 0).toBe(true);
    fa.fill(1);
    ib.fill(-1);
    expect(fc[0]).toBe(0);
    expect(fa.buffer).toBe(ib.buffer);
    be.free(arena.buffer);
    expect([fa.length, ib.length, fc.length]).toEqual([0, 0, 0]);
  });
});
