/**
 * GEMM and its companions: Linear layers forward and backward are built from these.
 * Row-major float32 throughout.
 */
import { addon } from '../native/addon';

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

type RawGemm = (
  c: Float32Array, pre: Float32Array | null, a: Float32Array, b: Float32Array, bias: Float32Array | null,
  m: number, n: number, k: number, transA: boolean, transB: boolean, alpha: number, beta: number, activation: number,
) => void;

function callGemm(fn: RawGemm, g: GemmArgs): void {
  fn(
    g.c, g.pre ?? null, g.a, g.b, g.bias ?? null, g.m, g.n, g.k, g.transA ?? false, g.transB ?? false,
    g.alpha ?? 1, g.beta ?? 0, activationCode(g.activation),
  );
}

/** C = act(alpha op(A) op(B) + beta C + bias), with packed SIMD micro-kernels on all cores. */
export function gemm(args: GemmArgs): void {
  callGemm(addon().gemm as unknown as RawGemm, args);
}

/** The same contract as {@link gemm}, computed by the plain reference loop (for tests). */
export function gemmReference(args: GemmArgs): void {
  callGemm(addon().gemmReference as unknown as RawGemm, args);
}

/** db(N) = column sums of dy(M,N), or db += them when accumulate. */
export function biasGrad(db: Float32Array, dy: Float32Array, m: number, n: number, accumulate = false): void {
  (addon().biasGrad as unknown as (...a: unknown[]) => void)(db, dy, m, n, accumulate);
}

/** dx = dy * act'(pre) over n elements. */
export function activationBackward(
  dx: Float32Array, dy: Float32Array, pre: Float32Array, n: number, activation: Activation,
): void {
  (addon().activationBackward as unknown as (...a: unknown[]) => void)(dx, dy, pre, n, activationCode(activation));
}
