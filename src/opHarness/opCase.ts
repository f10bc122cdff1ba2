/**
 * What one op-harness case is: the op, its tensors (with their role and how to make their values
 * from a seeded generator), how to call it on any backend, and what its results must be: a float64
 * reference of the outputs, and for a backward op the float64 forward whose gradient it computes.
 * After ggml's test-backend-ops, whose cases are likewise data the TEST, GRAD and PERF modes share.
 */
import type { Backend, HostArray, OpName } from '../backend/backend';
import type { Tensor } from '../backend/tensor';
import { SeededRandom } from '../seededRandom';

/**
 * How the harness treats a tensor:
 * - `in`: read by the op; made by `init` (uniform in [-1, 1) by default, never zeros);
 * - `out`: written by the op; poisoned (NaN, or INT32_MIN for int32) before the run, and every
 *   element must be written;
 * - `acc`: accumulated into (`+=`): starts from `init`'s values, compared after the run;
 * - `work`: saved state and scratch (filled by `setup` or the op itself); poisoned, never compared,
 *   as its layout is each backend's own;
 * - `ghost`: a host value that only the float64 forward reads (the variable of a gradient whose
 *   op does not take it, as biasGrad's bias); never allocated.
 */
export type Role = 'in' | 'out' | 'acc' | 'work' | 'ghost';

export interface TensorSpec {
  shape: readonly number[];
  dtype?: 'f32' | 'i32';
  role: Role;
  /** The starting values of an `in`, `acc` or `ghost` tensor, from the case's generator. */
  init?: (random: SeededRandom, size: number) => Float32Array | Int32Array;
}

/** The case's tensors on a backend, by name (setup may add more, as a packed weight). */
export type Tensors = Record<string, Tensor>;

/** Host values by name: float32 tensors as float64 copies (so the forward can be perturbed). */
export type HostValues = Record<string, Float64Array | Int32Array>;

/** Expected results by name: a tensor's elements, or one of the op's scalar results. */
export type Expected = Record<string, ArrayLike<number> | number>;

/** Precision of the kernel under test, which sets the default tolerances. */
export type Precision = 'fp32' | 'bf16';

export interface OpCase {
  /** Unique and readable: the op, its shapes and variant. */
  name: string;
  /** The op under test (timed in PERF mode); the case is skipped where supportsOp says no. */
  op: OpName;
  /** Other ops the case calls (in setup), which must be supported too. */
  requires?: OpName[];
  precision: Precision;
  /** The tensors, by name; a function of the backend because saved/scratch sizes are its own. */
  tensors(b: Backend): Record<string, TensorSpec>;
  /** Runs before the op and is not timed: the forward whose saved state a backward reads. */
  setup?(b: Backend, t: Tensors): void;
  /** Calls the op; returns its scalar results, if any (the retrieval losses' values). */
  run(b: Backend, t: Tensors): Record<string, number> | void;
  /** Float64 values of the outputs (`out`, `acc` after the op, scalar results) from the inputs. */
  reference?(h: HostValues): Expected;
  /**
   * Per-element magnitudes each output's errors are measured against in TEST mode (a GEMM's
   * |alpha| |op(A)| |op(B)| + |beta C| + |bias|, so cancellation neither hides nor inflates an
   * error); by default the output's largest value.
   */
  scale?(h: HostValues): Record<string, ArrayLike<number>>;
  /**
   * For a backward op: the float64 forward as a scalar loss of the inputs (sum(out * dout) with
   * the case's random dout), and which input each gradient output is the gradient of. An `acc`
   * gradient is checked as (after - before).
   */
  grad?: { loss(h: HostValues): number; wrt: Record<string, string> };
  /** Floating-point operations of one call (a multiply-add counts 2), for PERF mode. */
  flops: number;
  /** Bytes one call moves at the least (inputs read, outputs written), for PERF mode. */
  bytes: number;
  /** Relative tolerance of TEST and backend comparison, when the precision's default is not enough. */
  tolerance?: number;
  /** Relative tolerance of GRAD mode against finite differences. */
  gradTolerance?: number;
  /** True for the model-sized shapes, which `npm run bench:ops` times. */
  model?: boolean;
}

/** Uniform values in [lo, hi). */
export function uniform(lo = -1, hi = 1): NonNullable<TensorSpec['init']> {
  return (r, n) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = r.uniform(lo, hi);
    return out;
  };
}

/** Uniform integers in [lo, hi). */
export function integers(lo: number, hi: number): NonNullable<TensorSpec['init']> {
  return (r, n) => Int32Array.from({ length: n }, () => r.integer(lo, hi));
}

/** The starting values of a spec: its init, or uniform in [-1, 1). */
export function initialValues(spec: TensorSpec, random: SeededRandom, size: number): Float32Array | Int32Array {
  const values = (spec.init ?? uniform())(random, size);
  if (values.length !== size) throw new Error(`op harness: init made ${values.length} values for ${size} elements`);
  return values;
}

/** Elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes read and written by one call, from the tensor roles (acc read and written). */
export function bytesOf(specs: Record<string, TensorSpec>): number {
  let bytes = 0;
  for (const s of Object.values(specs)) {
    const size = sizeOf(s.shape) * 4;
    if (s.role === 'in' || s.role === 'out') bytes += size;
    if (s.role === 'acc') bytes += 2 * size;
  }
  return bytes;
}

export type { HostArray };
