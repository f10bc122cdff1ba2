/**
 * The backend interface (after ggml's ggml-backend-impl.h): buffer allocation, host transfers at
 * the model's edges, `supportsOp`, and the op set the model runs. The ops take the argument objects
 * of src/ops with Tensors in place of typed arrays, so a second backend (CUDA) implements the same
 * table over device pointers and the model code does not change.
 */
import type { AdamWArgs } from '../ops/adamw';
import type { AttentionBackwardArgs, AttentionForwardArgs } from '../ops/attention';
import type { EmbeddingForwardArgs } from '../ops/embedding';
import type { Activation, GemmArgs } from '../ops/gemm';
import type { GemmBf16Args } from '../ops/gemmBf16';
import type { LayerNormBackwardArgs, LayerNormForwardArgs } from '../ops/layernorm';
import type { RetrievalLossArgs, RetrievalLosses } from '../ops/losses';
import type { MlpAdapterBackwardArgs, MlpAdapterDims, MlpAdapterForwardArgs } from '../ops/mlpAdapter';
import type { PatchEmbedArgs } from '../ops/patchEmbed';
import type { SaAdapterBackwardArgs, SaAdapterDims, SaAdapterForwardArgs } from '../ops/saAdapter';
import type { SideFusionBackwardArgs, SideFusionDims, SideFusionForwardArgs } from '../ops/sideFusion';
import { Device, DType, Tensor } from './tensor';

export type { Activation };

/** A host array, as the model's callers hand them in and get them back. */
export type HostArray = Float32Array | Int32Array | Uint16Array;

/** An op's argument object with every typed array (also in nested objects and lists) a Tensor. */
export type OnTensors<T> = T extends HostArray
  ? Tensor
  : T extends readonly (infer E)[]
    ? OnTensors<E>[]
    : T extends object
      ? { [K in keyof T]: OnTensors<T[K]> }
      : T;

/** What a backend has allocated since it was made (arena tensors count once, with their arena). */
export interface AllocationStats {
  /** Allocations made. */
  count: number;
  /** Bytes allocated, in all. */
  bytes: number;
  /** Bytes allocated and not yet freed. */
  liveBytes: number;
}

/** Floats a fused op keeps from forward to backward, and the backward's work space. */
export interface OpSizes {
  saved: number;
  scratch: number;
}

/** The ops a backend runs; each is the src/ops function of the same name, on tensors. */
export interface BackendOps {
  /** C = act(alpha op(A) op(B) + beta C + bias). */
  gemm(a: OnTensors<GemmArgs>): void;
  /** The same against a frozen weight packed by {@link BackendOps.bf16Pack}. */
  gemmBf16(a: OnTensors<GemmBf16Args>): void;
  /** A new bf16 tensor holding b (k,n), or b^T when trans, in the bf16 kernel's layout. */
  bf16Pack(b: Tensor, k: number, n: number, trans: boolean): Tensor;
  /** db(N) (+)= column sums of dy(M,N). */
  biasGrad(db: Tensor, dy: Tensor, m: number, n: number, accumulate: boolean): void;
  /** dx = dy * act'(pre) over n elements. */
  activationBackward(dx: Tensor, dy: Tensor, pre: Tensor, n: number, activation: Activation): void;
  layerNormForward(a: OnTensors<LayerNormForwardArgs>): void;
  layerNormBackward(a: OnTensors<LayerNormBackwardArgs>): void;
  attentionForward(a: OnTensors<AttentionForwardArgs>): void;
  attentionBackward(a: OnTensors<AttentionBackwardArgs>): void;
  /** y += alpha x over n elements. */
  axpy(y: Tensor, x: Tensor, alpha: number, n: number): void;
  /** out = a + b over n elements. */
  add(out: Tensor, a: Tensor, b: Tensor, n: number): void;
  /** Floats the fused adapters save for their backward and clobber in it, on this backend. */
  saAdapterSizes(d: SaAdapterDims): OpSizes;
  mlpAdapterSizes(d: MlpAdapterDims): OpSizes;
  sideFusionSizes(d: SideFusionDims): OpSizes;
  saAdapterForward(a: OnTensors<SaAdapterForwardArgs>): void;
  saAdapterBackward(a: OnTensors<SaAdapterBackwardArgs>): void;
  mlpAdapterForward(a: OnTensors<MlpAdapterForwardArgs>): void;
  mlpAdapterBackward(a: OnTensors<MlpAdapterBackwardArgs>): void;
  sideFusionForward(a: OnTensors<SideFusionForwardArgs>): void;
  sideFusionBackward(a: OnTensors<SideFusionBackwardArgs>): void;
  patchEmbed(a: OnTensors<PatchEmbedArgs>): void;
  embeddingForward(a: OnTensors<EmbeddingForwardArgs>): void;
  l2NormForward(out: Tensor, x: Tensor, n: number, c: number): void;
  l2NormBackward(dx: Tensor, dout: Tensor, x: Tensor, n: number, c: number): void;
  /** Both retrieval losses (their values come back to the host) and, when asked, their gradients. */
  retrievalLosses(a: OnTensors<RetrievalLossArgs>): RetrievalLosses;
  adamw(a: OnTensors<AdamWArgs>): void;
  /** out[i] = the first position of the largest of x's row i (n rows of l int32 ids): EOT tokens. */
  argmaxRows(out: Tensor, x: Tensor, n: number, l: number): void;
  /** out (n,C) = x[i, index[i], :] for x (n,L,C). */
  gatherRows(out: Tensor, x: Tensor, index: Tensor, n: number, l: number, c: number): void;
  /** dx (n,L,C) = 0, then dx[i, index[i], :] = rows[i, :]. */
  scatterRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void;
  /** dx[i, index[i], :] += rows[i, :]. */
  scatterAddRows(dx: Tensor, rows: Tensor, index: Tensor, n: number, l: number, c: number): void;
  /** dst = src (same size). */
  copy(dst: Tensor, src: Tensor): void;
  /** Every element of t = value. */
  fill(t: Tensor, value: number): void;
}

/** The names of the ops, for {@link Backend.supportsOp}. */
export type OpName = keyof BackendOps;

export interface Backend extends BackendOps {
  readonly device: Device;
  /** A new zero-filled tensor: the only way a backend allocates memory (counted in `allocations`). */
  alloc(shape: readonly number[], dtype?: DType): Tensor;
  /**
   * Gives an alloc'd tensor's memory back now: the tensor and every view of it become empty
   * (on the CPU its ArrayBuffer is detached, so the memory goes with the next GC, not the model's).
   */
  free(t: Tensor): void;
  /** Frees everything this backend allocated and has not freed (a model's dispose). */
  freeAll(): void;
  /** A tensor over `shape` of t's memory from element `offset` (of t's dtype), read as `dtype`. */
  view(t: Tensor, offset: number, shape: readonly number[], dtype?: DType): Tensor;
  /** A tensor with a host array's contents (the CPU shares the array: no copy). */
  fromHost(a: HostArray, shape: readonly number[]): Tensor;
  /** t's contents on the host (the CPU returns its storage itself: no copy). */
  toHost(t: Tensor): HostArray;
  /** t's contents as a host array the caller keeps; t is the backend's no more (CPU: its storage, no copy). */
  takeHost(t: Tensor): HostArray;
  /** t's storage as a live host array where the device shares host memory, else null. */
  hostView(t: Tensor): HostArray | null;
  /** Copies a host array of t's size into t. */
  write(t: Tensor, a: HostArray): void;
  /** How this backend's fp32 products run, where it has a choice (CUDA: exact fp32 or TF32 tensor cores). */
  setMathMode?(mode: 'fp32' | 'tf32'): void;
  /** Whether this backend (on this machine) runs `op`; the model falls back where it does not. */
  supportsOp(op: OpName): boolean;
  readonly allocations: AllocationStats;
}
