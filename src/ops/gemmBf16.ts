/**
 * BF16 GEMM against a pre-packed frozen weight (AMX tiles, fp32 accumulation): the frozen
 * backbone's Linears in precision 'bf16'. Activations stay fp32 in memory and are rounded to
 * bf16 (nearest even) as the kernel reads them.
 */
import { addon } from '../native/addon';
import type { NativeGemmBf16Args } from '../native/addonApi';
import { Activation, activationCode } from './gemm';

/** Whether the bf16 kernel can run here (AMX-BF16 in the CPU, tile state granted by the OS). */
export function bf16Available(): boolean {
  return addon().info().bf16;
}

/** Elements of a packed (k,n) operand: both rounded up to 32. */
export function bf16PackedSize(k: number, n: number): number {
  return Math.ceil(k / 32) * 32 * Math.ceil(n / 32) * 32;
}

/**
 * Packs op(B) (k,n) as bf16 in the kernel's tile layout. `b` holds (k,n), or (n,k) when trans
 * (a torch Linear weight W (out,in) for y = x W^T).
 */
export function bf16Pack(b: Float32Array, k: number, n: number, trans: boolean): Uint16Array {
  const packed = new Uint16Array(bf16PackedSize(k, n));
  addon().bf16Pack({ packed, b, k, n, trans });
  return packed;
}

/** Arguments of {@link gemmBf16}. */
export interface GemmBf16Args {
  /** Output (m,n); read too when beta != 0. */
  c: Float32Array;
  /** (m,k) row-major fp32, rounded to bf16 on the fly. */
  a: Float32Array;
  /** op(B) (k,n) from {@link bf16Pack}. */
  packed: Uint16Array;
  m: number;
  n: number;
  k: number;
  bias?: Float32Array | null;
  alpha?: number;
  /** 0 overwrites c, 1 accumulates into it. */
  beta?: number;
  activation?: Activation;
  /** Receives the value before the activation (m,n). */
  pre?: Float32Array | null;
  /** Applied to A as it is read: an MLP's GELU consumed without storing its output. */
  aActivation?: Activation;
  /** (m,n) added before the activation: a residual connection without first copying it into c. */
  residual?: Float32Array | null;
}

// The native names, with the defaults filled in.
function nativeGemmBf16Args(g: GemmBf16Args): NativeGemmBf16Args {
  return {
    c: g.c, pre: g.pre ?? null, a: g.a, packed: g.packed, bias: g.bias ?? null, m: g.m, n: g.n, k: g.k,
    alpha: g.alpha ?? 1, beta: g.beta ?? 0, activation: activationCode(g.activation),
    aActivation: activationCode(g.aActivation, 'aActivation'), residual: g.residual ?? null,
  };
}

/**
 * C = act(alpha bf16(aActivation(A)) op(B) + beta C + bias + residual); `pre` receives the
 * value before act. Throws POSAPL_NO_BF16 where {@link bf16Available} is false.
 */
export function gemmBf16(args: GemmBf16Args): void {
  addon().gemmBf16(nativeGemmBf16Args(args));
}

/** The same contract by plain loops over the bf16-rounded operands (for tests; runs on any CPU). */
export function gemmBf16Reference(args: GemmBf16Args): void {
  addon().gemmBf16Reference(nativeGemmBf16Args(args));
}
