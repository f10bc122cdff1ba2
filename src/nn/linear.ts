/**
 * A torch Linear over rows: y (rows,out) = x (rows,in) W^T + b, with W (out,in). Frozen
 * Linears only pass gradients through; trainable ones also accumulate dW and db.
 *
 * In precision 'bf16' a frozen Linear keeps W packed as bf16 (W^T for the forward; W for the
 * input gradient, from the first backward on) and runs both products on the bf16 kernel;
 * trainable ones stay fp32.
 */
import { Activation, biasGrad, gemm } from '../ops/gemm';
import { bf16Pack, gemmBf16 } from '../ops/gemmBf16';
import { Parameter } from '../posapl/parameters';

/** Arithmetic of the frozen backbone's products. */
export type Precision = 'fp32' | 'bf16';

export class Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  // The input gradient's copy is packed on the first backward, so inference never holds it.
  private packed: { forward: Uint16Array; backward: Uint16Array | null } | null = null;

  constructor(readonly weight: Parameter, readonly bias: Parameter | null) {
    [this.outFeatures, this.inFeatures] = weight.spec.shape;
  }

  /** Packs (bf16) or drops (fp32) the bf16 copies of a frozen W; call after W is final. */
  setPrecision(precision: Precision): void {
    this.packed = precision === 'bf16' && !this.weight.spec.trainable
      ? { forward: bf16Pack(this.weight.data, this.inFeatures, this.outFeatures, true), backward: null }
      : null;
  }

  /** Whether the products run on the bf16 kernel (the fused forms below need it). */
  get bf16(): boolean {
    return this.packed !== null;
  }

  /**
   * y (rows,out) = act(x W^T + b), or y += x W^T + b when accumulate; `pre` keeps the value
   * before act. bf16 only: with `inputActivation` the product reads inputActivation(x); with
   * `residual` (rows,out) y = x W^T + b + residual.
   */
  forward(
    y: Float32Array, x: Float32Array, rows: number,
    opts: { activation?: Activation; pre?: Float32Array; accumulate?: boolean; inputActivation?: Activation; residual?: Float32Array } = {},
  ): void {
    const common = {
      c: y, a: x, m: rows, n: this.outFeatures, k: this.inFeatures,
      bias: this.bias?.data ?? null, beta: opts.accumulate ? 1 : 0, activation: opts.activation, pre: opts.pre ?? null,
    };
    if (this.packed) gemmBf16({ ...common, packed: this.packed.forward, aActivation: opts.inputActivation, residual: opts.residual });
    else if ((opts.inputActivation && opts.inputActivation !== 'none') || opts.residual) throw new Error('Linear: inputActivation and residual need precision bf16');
    else gemm({ ...common, b: this.weight.data, transB: true });
  }

  /** dx (rows,in) = dy W, or dx += dy W when accumulate. */
  backwardInput(dx: Float32Array, dy: Float32Array, rows: number, accumulate = false): void {
    const common = { c: dx, a: dy, m: rows, n: this.inFeatures, k: this.outFeatures, beta: accumulate ? 1 : 0 };
    if (this.packed) {
      this.packed.backward ??= bf16Pack(this.weight.data, this.outFeatures, this.inFeatures, false);
      gemmBf16({ ...common, packed: this.packed.backward });
    } else {
      gemm({ ...common, b: this.weight.data });
    }
  }

  /** dW += dy^T x and db += column sums of dy; only for trainable Linears. */
  backwardParams(dy: Float32Array, x: Float32Array, rows: number): void {
    const dW = this.weight.grad;
    if (!dW) return;
    gemm({ c: dW, a: dy, b: x, m: this.outFeatures, n: this.inFeatures, k: rows, transA: true, beta: 1 });
    const db = this.bias?.grad;
    if (db) biasGrad(db, dy, rows, this.outFeatures, true);
  }
}
