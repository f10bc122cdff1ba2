/**
 * GEMM and its companions: Linear layers forward and backward are built from these.
 * Row-major float32 throughout.
 */
import { addon } from '../native/addon';
import type { NativeGemmArgs } from '../native/addonApi';

/** Activation fused into a GEMM epilogue. */
export type Activation = 'none' | 'relu' | 'gelu';
const ACTIVATION_CODES: Record<Activation, number> = { none: 0, relu: 1, gelu: 2 };

/** Maps an activation name to its native code, naming the argument when it is unknown. */
export function activationCode(activation: Activation | undefined, name = 'activation'): number {
  const code = ACTIVATION_CODES[activation ?? 'none'];
  if (code === undefined) {
    const error = new Error(
      `Expected 'none', 'relu' or 'gelu' for ${name} but received ${JSON.stringify(activation)}`,
    ) as Error & { code: string };
    error.code = 'POSAPL_TYPE';
    throw error;
  }
  return code;
}

/** Arguments of {@link gemm}. */
export interface GemmArgs {
  /** Output (M,N); read too when beta != 0. */
  c: Float32Array;
  /** op(A) is (M,K): `a` holds (M,K), or (K,M) when transA. */
  a: Float32Array;
  /** op(B) is (K,N): `b` holds (K,N), or (N,K) when transB (a torch Linear weight). */
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  /** Bias (N) added before the activation. */
  bias?: Float32Array | null;
  alpha?: number;
  /** 0 overwrites c, 1 accumulates into it. */
  beta?: number;
  activation?: Activation;
  /** Receives the value before the activation (M,N), for the backward pass. */
  pre?: Float32Array | null;
}

// The native names, with the defaults filled in.
function nativeGemmArgs(g: GemmArgs): NativeGemmArgs {
  return {
    c: g.c, pre: g.pre ?? null, a: g.a, b: g.b, bias: g.bias ?? null, m: g.m, n: g.n, k: g.k,
    transA: g.transA ?? false, transB: g.transB ?? false, alpha: g.alpha ?? 1, beta: g.beta ?? 0,
    activation: activationCode(g.activation),
  };
}

/** C = act(alpha op(A) op(B) + beta C + bias), with packed SIMD micro-kernels on all cores. */
export function gemm(args: GemmArgs): void {
  addon().gemm(nativeGemmArgs(args));
}

/** The same contract as {@link gemm}, computed by the plain reference loop (for tests). */
export function gemmReference(args: GemmArgs): void {
  addon().gemmReference(nativeGemmArgs(args));
}

/** db(N) = column sums of dy(M,N), or db += them when accumulate. */
export function biasGrad(db: Float32Array, dy: Float32Array, m: number, n: number, accumulate = false): void {
  addon().biasGrad({ db, dy, m, n, accumulate });
}

/** dx = dy * act'(pre) over n elements. */
export function activationBackward(
  dx: Float32Array, dy: Float32Array, pre: Float32Array, n: number, activation: Activation,
): void {
  addon().activationBackward({ dx, dy, pre, n, activation: activationCode(activation) });
}
