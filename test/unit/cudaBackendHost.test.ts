/**
 * The CUDA backend's host-side logic (src/backend/cuda.ts) where no GPU exists: its memory pool,
 * zero-filled allocations, views and their bounds, transfers with their dtypes, freed tensors
 * refused, and the per-backend math mode. A stand-in for the CUDA addon keeps "device" memory in
 * host buffers by address and counts what the backend asks of it; the kernels themselves are
 * checked on a GPU by scripts/gpu-check.js.
 */
import { CudaBackend } from '../../src/backend/cuda';
import type { CudaAddon, DeviceRef } from '../../src/native/cudaAddon';

const BYTES = { f32: 4, i32: 4, bf16: 2 } as const;

/** Device memory as host buffers; every call the backend makes is counted. */
function standIn() {
  const blocks = new Map<bigint, ArrayBuffer>();
  const calls: Record<string, number> = {};
  const modes: string[] = [];
  let next = 0x10000n;
  const count = (name: string) => { calls[name] = (calls[name] ?? 0) + 1; };
  // The block holding a device tensor and the byte range it covers (as the addon checks it).
  const locate = (r: DeviceRef) => {
    for (const [base, buffer] of blocks) {
      const at = Number(r.address - base);
      if (r.address >= base && at + r.length * BYTES[r.dtype] <= buffer.byteLength) return { buffer, at };
    }
    throw Object.assign(new Error('not live device memory'), { code: 'POSAPL_DEVICE' });
  };
  const view = (r: DeviceRef) => {
    const { buffer, at } = locate(r);
    return r.dtype === 'i32' ? new Int32Array(buffer, at, r.length) : r.dtype === 'bf16' ? new Uint16Array(buffer, at, r.length) : new Float32Array(buffer, at, r.length);
  };
  const addon = {
    deviceAlloc: ({ bytes }: { bytes: number }) => {
      count('deviceAlloc');
      const address = next;
      next += BigInt(bytes) + 0x1000n;
      // Not zeroed, as cudaMalloc: the backend must fill.
      blocks.set(address, new Uint8Array(bytes).fill(0xab).buffer);
      return address;
    },
    deviceFree: ({ address }: { address: bigint }) => { count('deviceFree'); blocks.delete(address); },
    deviceFill: ({ dst, value }: { dst: DeviceRef; value: number }) => { count('deviceFill'); view(dst).fill(value); },
    upload: ({ dst, src }: { dst: DeviceRef; src: Float32Array | Int32Array | Uint16Array }) => { count('upload'); view(dst).set(src as never); },
    download: ({ src, dst }: { src: DeviceRef; dst: Float32Array | Int32Array | Uint16Array }) => { count('download'); dst.set(view(src) as never); },
    deviceCopy: ({ dst, src }: { dst: DeviceRef; src: DeviceRef }) => { count('deviceCopy'); view(dst).set(view(src) as never); },
    setMathMode: ({ mode }: { mode: string }) => { modes.push(mode); },
    // The ops through src/ops' wrappers arrive with their native names and defaults filled in.
    gemm: (a: { c: DeviceRef; a: DeviceRef; b: DeviceRef; m: number; n: number; k: number }) => {
      count('gemm');
      const C = view(a.c) as Float32Array, A = view(a.a) as Float32Array, B = view(a.b) as Float32Array;
      for (let i = 0; i < a.m; i++)
        for (let j = 0; j < a.n; j++) {
          let sum = 0;
          for (let k = 0; k < a.k; k++) sum += A[i * a.k + k] * B[k * a.n + j];
          C[i * a.n + j] = sum;
        }
    },
    axpy: ({ y, x, alpha, n }: { y: DeviceRef; x: DeviceRef; alpha: number; n: number }) => {
      count('axpy');
      const Y = view(y) as Float32Array, X = view(x) as Float32Array;
      for (let i = 0; i < n; i++) Y[i] += alpha * X[i];
    },
  };
  return { addon: addon as unknown as CudaAddon, blocks, calls, modes };
}

describe('the CUDA backend on the host side', () => {
  it('zero-fills allocations and reuses freed blocks of the same size (no deviceAlloc, no deviceFree)', () => {
    const s = standIn();
    const be = new CudaBackend(s.addon);
    const a = be.alloc([3, 5]);
    expect([...(be.toHost(a) as Float32Array)]).toEqual(new Array(15).fill(0));
    const address = (a.storage as DeviceRef).address;
    be.free(a);
    const b = be.alloc([15]);
    expect((b.storage as DeviceRef).address).toBe(address);
    expect(s.calls.deviceAlloc).toBe(1);
    expect(s.calls.deviceFree).toBeUndefined();
    // The freed tensor is refused by name, even though its block lives on in b.
    expect(() => be.toHost(a)).toThrow(expect.objectContaining({ code: 'POSAPL_DEVICE', message: expect.stringMatching(/freed/) }));
    be.write(b, new Float32Array(15).fill(2));
    expect(be.toHost(b)[14]).toBe(2);
    be.freeAll();
    expect(s.calls.deviceFree).toBe(1);
    expect(s.blocks.size).toBe(0);
    expect(be.allocations.liveBytes).toBe(0);
  });

  it('makes views inside their block, of any dtype, and refuses one running past it', () => {
    const s = standIn();
    const be = new CudaBackend(s.addon);
    const t = be.alloc([8]);
    be.write(t, Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
    const v = be.view(t, 2, [2, 2]);
    expect([...(be.toHost(v) as Float32Array)]).toEqual([2, 3, 4, 5]);
    const ints = be.view(t, 4, [4], 'i32');
    expect(be.toHost(ints)).toBeInstanceOf(Int32Array);
    expect(ints.size).toBe(4);
    // Blocks are rounded to 512 bytes: 128 floats fit, 129 do not.
    expect(() => be.view(t, 0, [129])).toThrow(/runs past its tensor/);
    expect(be.view(t, 0, [128]).size).toBe(128);
    expect(() => be.view(t, -1, [2])).toThrow(/runs past/);
  });

  it('uploads host arrays with their dtype and gives every upload block back', () => {
    const s = standIn();
    const be = new CudaBackend(s.addon);
    const ids = be.fromHost(Int32Array.from([7, 8, 9]), [3]);
    expect(ids.dtype).toBe('i32');
    expect([...(be.toHost(ids) as Int32Array)]).toEqual([7, 8, 9]);
    const x = be.fromHost(Float32Array.from([1, 2]), [2]);
    const y = be.alloc([2]);
    be.axpy(y, x, 3, 2);
    expect([...(be.takeHost(y) as Float32Array)]).toEqual([3, 6]);
    expect(() => be.fromHost(Float32Array.from([1, 2]), [3])).toThrow(/2 elements do not make shape \[3\]/);
    be.free(ids);
    be.free(x);
    expect(be.allocations.liveBytes).toBe(0);
    // A second batch of the same sizes takes the pooled blocks.
    be.fromHost(Int32Array.from([1, 2, 3]), [3]);
    expect(s.calls.deviceAlloc).toBe(3);
  });

  it('runs src/ops wrappers against the addon and sets the math mode of the backend that runs, only when it changes', () => {
    const s = standIn();
    const exact = new CudaBackend(s.addon);
    const fast = new CudaBackend(s.addon);
    fast.setMathMode('tf32');
    const operands = (be: CudaBackend) => {
      const a = be.fromHost(Float32Array.from([1, 2, 3, 4]), [2, 2]);
      const b = be.fromHost(Float32Array.from([5, 6, 7, 8]), [2, 2]);
      return { c: be.alloc([2, 2]), a, b, m: 2, n: 2, k: 2 };
    };
    const one = operands(exact);
    const two = operands(fast);
    s.modes.length = 0;
    fast.gemm(two);
    fast.gemm(two);
    exact.gemm(one);
    fast.gemm(two);
    expect(s.modes).toEqual(['tf32', 'fp32', 'tf32']);
    expect([...(exact.toHost(one.c) as Float32Array)]).toEqual([19, 22, 43, 50]);
  });

  it('refuses tensors of another device and host arrays in op arguments', () => {
    const s = standIn();
    const be = new CudaBackend(s.addon);
    const t = be.alloc([2]);
    const cpuTensor = { ...t, device: 'cpu' };
    Object.setPrototypeOf(cpuTensor, Object.getPrototypeOf(t));
    expect(() => be.axpy(cpuTensor as never, t, 1, 2)).toThrow(expect.objectContaining({ code: 'POSAPL_DEVICE' }));
    expect(() => be.gemm({ c: new Float32Array(1) } as never)).toThrow(expect.objectContaining({ code: 'POSAPL_INTERNAL' }));
  });
});
