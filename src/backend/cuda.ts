/**
 * The CUDA backend: tensors live in device memory of the CUDA addon, and every op is the src/ops
 * function of the same name run against that addon (same argument names, device tensors in place
 * of arrays). Memory comes from a caching pool, as PyTorch's allocator does: a freed block waits
 * for the next request of its size, so steady-state steps neither cudaMalloc nor cudaFree (which
 * would wait for the device). Host arrays cross only at the edges (fromHost, write, toHost).
 */
import { posaplError } from '../errors';
import { withAddon } from '../native/addon';
import { CudaAddon, DeviceRef, cudaAddon } from '../native/cudaAddon';
import * as ops from '../ops';
import { AllocationStats, Backend, HostArray, OpName } from './backend';
import { DType, Tensor, numel } from './tensor';

const BYTES: Record<DType, number> = { f32: 4, i32: 4, bf16: 2 };
const ARRAY = { f32: Float32Array, i32: Int32Array, bf16: Uint16Array } as const;

/** One device block; a tensor's storage points into one. `live` turns false when it is freed. */
class Block {
  live = true;
  constructor(readonly address: bigint, readonly bytes: number) {}
}

/** A CUDA tensor's storage: the descriptor the addon reads, and its block. */
interface DeviceStorage extends DeviceRef {
  block: Block;
}

/** The storage of a CUDA tensor, checked to be live. */
function storage(t: Tensor): DeviceStorage {
  const s = t.storage as DeviceStorage | null;
  if (t.device !== 'cuda' || !s || !(s.block instanceof Block)) {
    throw posaplError('POSAPL_DEVICE', `posapl: a tensor on ${t.device} was passed to the CUDA backend`);
  }
  if (!s.block.live) throw posaplError('POSAPL_DEVICE', 'posapl: a freed CUDA tensor was used');
  return s;
}

/** Replaces every Tensor in an argument object (nested objects and lists too) by its descriptor. */
function device(v: unknown): unknown {
  if (v instanceof Tensor) {
    const s = storage(v);
    return { address: s.address, length: s.length, dtype: s.dtype };
  }
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) throw posaplError('POSAPL_INTERNAL', 'posapl: a host array was passed to a backend op; ops take tensors');
  if (Array.isArray(v)) return v.map(device);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = device(x);
  return out;
}

// The CUDA addon's math mode as last set (each backend sets its own before its ops run).
let activeMathMode: 'fp32' | 'tf32' = 'fp32';

// Blocks are rounded to 512 bytes so that close sizes share the pool and views stay aligned.
const round = (bytes: number) => Math.max(512, Math.ceil(bytes / 512) * 512);

export class CudaBackend implements Backend {
  readonly device = 'cuda' as const;
  readonly allocations: AllocationStats = { count: 0, bytes: 0, liveBytes: 0 };
  private readonly native: CudaAddon;
  /** Blocks handed out, by base tensor. */
  private readonly owned = new Map<Tensor, Block>();
  /** Freed blocks by size, waiting for reuse. */
  private readonly pool = new Map<number, bigint[]>();

  /**
   * Throws POSAPL_NO_CUDA (saying why) where CUDA cannot run. `native` is the CUDA addon (loaded
   * and probed by default); tests of the host-side logic pass a stand-in.
   */
  constructor(native: CudaAddon = cudaAddon()) {
    this.native = native;
  }

  /** The addon's CUDA functions (synchronize, deviceMemory, setMathMode): for checks and benchmarks. */
  get addon(): CudaAddon {
    return this.native;
  }

  /** How this backend's fp32 GEMMs run: exact fp32 (parity) or TF32 tensor cores. */
  setMathMode(mode: 'fp32' | 'tf32'): void {
    this.mathMode = mode;
  }

  private mathMode: 'fp32' | 'tf32' = 'fp32';

  /** Waits for every op enqueued so far (a kernel's fault surfaces here). */
  synchronize(): void {
    this.native.synchronize();
  }

  private block(bytes: number): Block {
    const size = round(bytes);
    const free = this.pool.get(size);
    const address = free && free.length > 0 ? (free.pop() as bigint) : this.native.deviceAlloc({ bytes: size });
    return new Block(address, size);
  }

  private tensor(shape: readonly number[], dtype: DType, block: Block): Tensor {
    const s: DeviceStorage = { address: block.address, length: numel(shape), dtype, block };
    return new Tensor([...shape], dtype, 'cuda', s);
  }

  alloc(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const bytes = numel(shape) * BYTES[dtype];
    const block = this.block(bytes);
    // Zero-filled, as the interface promises: one fill over the whole block.
    this.native.deviceFill({ dst: { address: block.address, length: block.bytes / 4, dtype: 'f32' }, value: 0 });
    const t = this.tensor(shape, dtype, block);
    this.owned.set(t, block);
    this.allocations.count += 1;
    this.allocations.bytes += block.bytes;
    this.allocations.liveBytes += block.bytes;
    return t;
  }

  free(t: Tensor): void {
    const block = this.owned.get(t);
    if (!block) return;
    this.owned.delete(t);
    this.allocations.liveBytes -= block.bytes;
    block.live = false;
    const list = this.pool.get(block.bytes) ?? [];
    list.push(block.address);
    this.pool.set(block.bytes, list);
  }

  freeAll(): void {
    for (const t of [...this.owned.keys()]) this.free(t);
    for (const list of this.pool.values()) for (const address of list) this.native.deviceFree({ address });
    this.pool.clear();
  }

  view(t: Tensor, offset: number, shape: readonly number[], dtype: DType = t.dtype): Tensor {
    const s = storage(t);
    const byteOffset = offset * BYTES[t.dtype];
    const start = Number(s.address - s.block.address) + byteOffset;
    const size = numel(shape);
    if (offset < 0 || start + size * BYTES[dtype] > s.block.bytes) {
      throw posaplError('POSAPL_INTERNAL', `posapl: a view [${offset}, ${JSON.stringify(shape)}] runs past its tensor (${s.length} elements)`);
    }
    const v: DeviceStorage = { address: s.address + BigInt(byteOffset), length: size, dtype, block: s.block };
    return new Tensor([...shape], dtype, 'cuda', v);
  }

  /** A device copy of a host array, in a block the caller gives back with free(). */
  fromHost(a: HostArray, shape: readonly number[]): Tensor {
    const dtype: DType = a instanceof Int32Array ? 'i32' : a instanceof Uint16Array ? 'bf16' : 'f32';
    if (numel(shape) !== a.length) throw posaplError('POSAPL_INTERNAL', `posapl: ${a.length} elements do not make shape ${JSON.stringify(shape)}`);
    const block = this.block(a.byteLength);
    const t = this.tensor(shape, dtype, block);
    this.owned.set(t, block);
    this.allocations.liveBytes += block.bytes;
    if (a.length > 0) this.native.upload({ dst: device(t) as DeviceRef, src: a });
    return t;
  }

  toHost(t: Tensor): HostArray {
    const s = storage(t);
    const out = new ARRAY[t.dtype](s.length);
    if (s.length > 0) this.native.download({ src: device(t) as DeviceRef, dst: out });
    return out;
  }

  takeHost(t: Tensor): HostArray {
    const out = this.toHost(t);
    this.free(t);
    return out;
  }

  hostView(): HostArray | null {
    return null;
  }

  write(t: Tensor, a: HostArray): void {
    if (a.length !== t.size) throw posaplError('POSAPL_INTERNAL', `posapl: writing ${a.length} elements into a tensor of ${t.size}`);
    if (a.length > 0) this.native.upload({ dst: device(t) as DeviceRef, src: a });
  }

  supportsOp(op: OpName): boolean {
    return op in this;
  }

  /** A new bf16 tensor holding op(B) in the CUDA kernel's layout (row-major (k,n) bf16). */
  bf16Pack(b: Tensor, k: number, n: number, trans: boolean): Tensor {
    const packed = this.alloc([ops.bf16PackedSize(k, n)], 'bf16');
    this.native.bf16Pack({ packed: device(packed) as never, b: device(b) as never, k, n, trans });
    return packed;
  }

  /** Runs a src/ops wrapper against the CUDA addon with the tensors as device descriptors. */
  private run<A, R>(f: (a: A) => R, a: unknown): R {
    // The addon's math mode is one per process: set this backend's before its ops.
    if (activeMathMode !== this.mathMode) {
      this.native.setMathMode({ mode: this.mathMode });
      activeMathMode = this.mathMode;
    }
    return withAddon(this.native, () => f(device(a) as A));
  }

  saAdapterSizes = ops.saAdapterSizes;
  mlpAdapterSizes = ops.mlpAdapterSizes;
  sideFusionSizes = ops.sideFusionSizes;
  gemm = (a: unknown) => this.run(ops.gemm, a);
  gemmBf16 = (a: unknown) => this.run(ops.gemmBf16, a);
  layerNormForward = (a: unknown) => this.run(ops.layerNormForward, a);
  layerNormBackward = (a: unknown) => this.run(ops.layerNormBackward, a);
  attentionForward = (a: unknown) => this.run(ops.attentionForward, a);
  attentionBackward = (a: unknown) => this.run(ops.attentionBackward, a);
  saAdapterForward = (a: unknown) => this.run(ops.saAdapterForward, a);
  saAdapterBackward = (a: unknown) => this.run(ops.saAdapterBackward, a);
  mlpAdapterForward = (a: unknown) => this.run(ops.mlpAdapterForward, a);
  mlpAdapterBackward = (a: unknown) => this.run(ops.mlpAdapterBackward, a);
  sideFusionForward = (a: unknown) => this.run(ops.sideFusionForward, a);
  sideFusionBackward = (a: unknown) => this.run(ops.sideFusionBackward, a);
  patchEmbed = (a: unknown) => this.run(ops.patchEmbed, a);
  embeddingForward = (a: unknown) => this.run(ops.embeddingForward, a);
  adamw = (a: unknown) => this.run(ops.adamw, a);
  retrievalLosses = (a: unknown) => this.run(ops.retrievalLosses, a) as ops.RetrievalLosses;

  biasGrad(db: Tensor, dy: Tensor, m: number, n: number, accumulate: boolean): void {
    this.run((x: { db: Float32Array; dy: Float32Array }) => ops.biasGrad(x.db, x.dy, m, n, accumulate), { db, dy });
  }

  activationBackward(dx: Tensor, dy: Tensor, pre: Tensor, n: number, activation: ops.Activation): void {
    this.run((x: { dx: Float32Array; dy: Float32Array; pre: Float32Array }) => ops.activationBackward(x.dx, x.dy, x.pre, n, activation), { dx, dy, pre });
  }

  axpy(y: Tensor, x: Tensor, alpha: number, n: number): void {
    this.run((a: { y: Float32Array; x: Float32Array }) => ops.axpy(a.y, a.x, alpha, n), { y, x });
  }

  add(out: Tensor, a: Tensor, b: Tensor, n: number): void {
    this.run((x: { out: Float32Array; a: Float32Array; b: Float32Array }) => ops.add(x.out, x.a, x.b, n), { out, a, b });
  }

  l2NormForward(out: Tensor, x: Tensor, n: number, c: number): void {
    this.run((a: { out: Float32Array; x: Float32Array }) => ops.l2NormForward(a.out, a.x, n, c), { out, x });
  }

  l2NormBackward(dx: Tensor, dout: Tensor, x: Tensor, n: number, c: number): void {
    this.run((a: { dx: Float32Array; dout: Float32Array; x: Float32Array }) => ops.l2NormBackward(a.dx, a.dout, a.x, n, c), { dx, dout, x });
  }

  argmaxRows(out: Tensor, x: Tensor, n: number, l: number): void {
    this.native.argmaxRows({ out: device(out) as DeviceRef, ids: device(x) as DeviceRef, n, l });
  }

  gatherRows(out: Tensor, x: Tensor, index: Tensor, n: number, l: number, c: number): void {
    this.native.gatherRows({ out: device(out) as DeviceRef, x: device(x) as DeviceRef, index: device(index) as DeviceRef, n, l, c });
  }

  scatterRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void {
    this.native.scatterRows({ dx: device(dx) as DeviceRef, rows: device(rows) as DeviceRef, index: device(index) as DeviceRef, n, l, c, accumulate: false });
  }

  scatterAddRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void {
    this.native.scatterRows({ dx: device(dx) as DeviceRef, rows: device(rows) as DeviceRef, index: device(index) as DeviceRef, n, l, c, accumulate: true });
  }

  copy(dst: Tensor, src: Tensor): void {
    this.native.deviceCopy({ dst: device(dst) as DeviceRef, src: device(src) as DeviceRef });
  }

  fill(t: Tensor, value: number): void {
    if (t.size > 0) this.native.deviceFill({ dst: device(t) as DeviceRef, value });
  }
}
