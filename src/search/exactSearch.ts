/**
 * Exact top-k by inner product over L2-normalised rows (so the scores are cosine similarities),
 * on the project's GEMM: fp32, or bf16 on AMX tiles with the rows packed once.
 */
import { posaplError } from '../errors';
import { gemm } from '../ops/gemm';
import { bf16Available, bf16Pack, gemmBf16 } from '../ops/gemmBf16';
import { Scored, topK } from './topK';

/** Arithmetic of the exact search: fp32 (default) or bf16 (falls back to fp32 without AMX-BF16). */
export type SearchPrecision = 'fp32' | 'bf16';

/** Scores `queries` against a fixed set of rows; build a new one when the rows change. */
export class ExactSearch {
  /** The precision that runs ('bf16' asked where the CPU lacks it runs 'fp32'). */
  readonly precision: SearchPrecision;
  private packed: Uint16Array | null = null;
  private scores = new Float32Array(0);

  /**
   * @param rows - (count, dim) row-major; read, not copied: do not change it while searching.
   */
  constructor(private readonly rows: Float32Array, readonly count: number, readonly dim: number, precision: SearchPrecision = 'fp32') {
    if (precision !== 'fp32' && precision !== 'bf16') {
      throw posaplError('POSAPL_TYPE', `Expected 'fp32' or 'bf16' for precision but received ${JSON.stringify(precision)}`);
    }
    if (rows.length < count * dim) throw posaplError('POSAPL_SHAPE', `Expected at least ${count * dim} values in rows but received ${rows.length}`);
    this.precision = precision === 'bf16' && bf16Available() ? 'bf16' : 'fp32';
  }

  /** The `k` best rows of each of the `nq` queries (nq, dim), best first. */
  search(queries: Float32Array, nq: number, k: number): Scored[][] {
    if (!Number.isInteger(nq) || nq < 1 || queries.length !== nq * this.dim) {
      throw posaplError('POSAPL_SHAPE', `Expected ${nq}x${this.dim} values in queries but received ${queries.length}`);
    }
    if (!Number.isInteger(k) || k < 1) throw posaplError('POSAPL_TYPE', `Expected a positive integer for k but received ${k}`);
    if (this.count === 0) return Array.from({ length: nq }, () => []);
    const n = this.count;
    if (this.scores.length < nq * n) this.scores = new Float32Array(nq * n);
    const c = this.scores.subarray(0, nq * n);
    if (this.precision === 'bf16') {
      // Packed once: the rows are op(B) (dim, count), read as a torch Linear weight (count, dim).
      this.packed ??= bf16Pack(this.rows.subarray(0, n * this.dim), this.dim, n, true);
      gemmBf16({ c, a: queries, packed: this.packed, m: nq, n, k: this.dim });
    } else {
      gemm({ c, a: queries, b: this.rows.subarray(0, n * this.dim), m: nq, n, k: this.dim, transB: true });
    }
    return Array.from({ length: nq }, (_, q) => topK(c.subarray(q * n, (q + 1) * n), n, k));
  }
}
