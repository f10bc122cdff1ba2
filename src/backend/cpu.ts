/**
 * The CPU backend: tensors are typed arrays in host memory and every op is the src/ops function of
 * the same name (the native kernels), with the argument object's tensors replaced by their arrays.
 * This file is the only caller of src/ops in the model.
 */
import { posaplError } from '../errors';
import * as ops from '../ops';
import { AllocationStats, Backend, HostArray, OpName } from './backend';
import { DType, Tensor, numel } from './tensor';

const ARRAY = { f32: Float32Array, i32: Int32Array, bf16: Uint16Array } as const;

/** The host array a CPU tensor lives in. */
function array<A extends HostArray = Float32Array>(t: Tensor): A {
  if (t.device !== 'cpu' || !ArrayBuffer.isView(t.storage)) {
    throw posaplError('POSAPL_DEVICE', `posapl: a tensor on ${t.device} was passed to the CPU backend`);
  }
  return t.storage as A;
}

/** Replaces every Tensor in an argument object (nested objects and lists too) by its array. */
function host(v: unknown): unknown {
  if (v instanceof Tensor) return array(v);
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) throw posaplError('POSAPL_INTERNAL', 'posapl: a host array was passed to a backend op; ops take tensors');
  if (Array.isArray(v)) return v.map(host);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = host(x);
  return out;
}

// Each op takes its src/ops argument object with tensors in place of the arrays.
const call = <A>(f: (a: A) => unknown) => (a: unknown) => f(host(a) as A);

export class CpuBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly allocations: AllocationStats = { count: 0, bytes: 0, liveBytes: 0 };
  private readonly live = new Set<Tensor>();

  alloc(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.own(new Tensor([...shape], dtype, 'cpu', new ARRAY[dtype](numel(shape))));
  }

  free(t: Tensor): void {
    if (!this.live.delete(t)) return;
    this.allocations.liveBytes -= array<HostArray>(t).byteLength;
    // Transferring detaches the buffer (every view becomes empty); the clone is garbage at once.
    const buffer = array<HostArray>(t).buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] });
  }

  freeAll(): void {
    for (const t of [...this.live]) this.free(t);
  }

  private own(t: Tensor): Tensor {
    const a = array<HostArray>(t);
    this.allocations.count += 1;
    this.allocations.bytes += a.byteLength;
    this.allocations.liveBytes += a.byteLength;
    this.live.add(t);
    return t;
  }

  view(t: Tensor, offset: number, shape: readonly number[], dtype: DType = t.dtype): Tensor {
    const a = array<HostArray>(t);
    const size = numel(shape);
    const byteOffset = a.byteOffset + offset * a.BYTES_PER_ELEMENT;
    const Kind = ARRAY[dtype];
    if (offset < 0 || byteOffset + size * Kind.BYTES_PER_ELEMENT > a.byteOffset + a.byteLength) {
      throw posaplError('POSAPL_INTERNAL', `posapl: a view [${offset}, ${JSON.stringify(shape)}] runs past its tensor (${a.length} elements)`);
    }
    const storage = dtype === t.dtype ? a.subarray(offset, offset + size) : new Kind(a.buffer as ArrayBuffer, byteOffset, size);
    return new Tensor([...shape], dtype, 'cpu', storage);
  }

  fromHost(a: HostArray, shape: readonly number[]): Tensor {
    const dtype: DType = a instanceof Int32Array ? 'i32' : a instanceof Uint16Array ? 'bf16' : 'f32';
    if (numel(shape) !== a.length) throw posaplError('POSAPL_INTERNAL', `posapl: ${a.length} elements do not make shape ${JSON.stringify(shape)}`);
    return new Tensor([...shape], dtype, 'cpu', a);
  }

  toHost(t: Tensor): HostArray {
    return array<HostArray>(t);
  }

  takeHost(t: Tensor): HostArray {
    const a = array<HostArray>(t);
    if (this.live.delete(t)) this.allocations.liveBytes -= a.byteLength;
    return a;
  }

  hostView(t: Tensor): HostArray {
    return array<HostArray>(t);
  }

  write(t: Tensor, a: HostArray): void {
    array<HostArray>(t).set(a as Float32Array);
  }

  supportsOp(op: OpName): boolean {
    return op === 'gemmBf16' || op === 'bf16Pack' ? ops.bf16Available() : op in this;
  }

  saAdapterSizes = ops.saAdapterSizes;
  mlpAdapterSizes = ops.mlpAdapterSizes;
  sideFusionSizes = ops.sideFusionSizes;
  gemm = call(ops.gemm);
  gemmBf16 = call(ops.gemmBf16);
  layerNormForward = call(ops.layerNormForward);
  layerNormBackward = call(ops.layerNormBackward);
  attentionForward = call(ops.attentionForward);
  attentionBackward = call(ops.attentionBackward);
  saAdapterForward = call(ops.saAdapterForward);
  saAdapterBackward = call(ops.saAdapterBackward);
  mlpAdapterForward = call(ops.mlpAdapterForward);
  mlpAdapterBackward = call(ops.mlpAdapterBackward);
  sideFusionForward = call(ops.sideFusionForward);
  sideFusionBackward = call(ops.sideFusionBackward);
  patchEmbed = call(ops.patchEmbed);
  embeddingForward = call(ops.embeddingForward);
  adamw = call(ops.adamw);
  retrievalLosses = call(ops.retrievalLosses) as (a: unknown) => ops.RetrievalLosses;

  bf16Pack(b: Tensor, k: number, n: number, trans: boolean): Tensor {
    const packed = ops.bf16Pack(array(b), k, n, trans);
    return this.own(new Tensor([packed.length], 'bf16', 'cpu', packed));
  }

  biasGrad(db: Tensor, dy: Tensor, m: number, n: number, accumulate: boolean): void {
    ops.biasGrad(array(db), array(dy), m, n, accumulate);
  }

  activationBackward(dx: Tensor, dy: Tensor, pre: Tensor, n: number, activation: ops.Activation): void {
    ops.activationBackward(array(dx), array(dy), array(pre), n, activation);
  }

  axpy(y: Tensor, x: Tensor, alpha: number, n: number): void {
    ops.axpy(array(y), array(x), alpha, n);
  }

  add(out: Tensor, a: Tensor, b: Tensor, n: number): void {
    ops.add(array(out), array(a), array(b), n);
  }

  l2NormForward(out: Tensor, x: Tensor, n: number, c: number): void {
    ops.l2NormForward(array(out), array(x), n, c);
  }

  l2NormBackward(dx: Tensor, dout: Tensor, x: Tensor, n: number, c: number): void {
    ops.l2NormBackward(array(dx), array(dout), array(x), n, c);
  }

  argmaxRows(out: Tensor, x: Tensor, n: number, l: number): void {
    const o = array<Int32Array>(out);
    const ids = array<Int32Array>(x);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < l; j++) if (ids[i * l + j] > ids[i * l + best]) best = j;
      o[i] = best;
    }
  }

  // Row moves are one native memcpy (TypedArray.set) per row.
  gatherRows(out: Tensor, x: Tensor, index: Tensor, n: number, l: number, c: number): void {
    const o = array(out);
    const src = array(x);
    const idx = array<Int32Array>(index);
    for (let i = 0; i < n; i++) {
      const at = (i * l + idx[i]) * c;
      o.set(src.subarray(at, at + c), i * c);
    }
  }

  scatterRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void {
    const d = array(dx);
    const r = array(rows);
    const idx = array<Int32Array>(index);
    d.fill(0);
    for (let i = 0; i < n; i++) d.set(r.subarray(i * c, (i + 1) * c), (i * l + idx[i]) * c);
  }

  scatterAddRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void {
    const d = array(dx);
    const r = array(rows);
    const idx = array<Int32Array>(index);
    for (let i = 0; i < n; i++) {
      const at = (i * l + idx[i]) * c;
      ops.axpy(d.subarray(at, at + c), r.subarray(i * c, (i + 1) * c), 1, c);
    }
  }

  copy(dst: Tensor, src: Tensor): void {
    array<HostArray>(dst).set(array<HostArray>(src) as Float32Array);
  }

  fill(t: Tensor, value: number): void {
    array<HostArray>(t).fill(value);
  }
}
