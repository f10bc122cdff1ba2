/**
 * A torch Linear over rows: y (rows,out) = x (rows,in) W^T + b, with W (out,in). Frozen
 * Linears only pass gradients through; trainable ones also accumulate dW and db.
 */
import { Activation, biasGrad, gemm } from '../ops/gemm';
import { Parameter } from '../posapl/parameters';

export class Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(readonly weight: Parameter, readonly bias: Parameter | null) {
    [this.outFeatures, this.inFeatures] = weight.spec.shape;
  }

  /** y (rows,out) = act(x W^T + b), or y += x W^T + b when accumulate; `pre` keeps the value before act. */
  forward(y: Float32Array, x: Float32Array, rows: number, opts: { activation?: Activation; pre?: Float32Array; accumulate?: boolean } = {}): void {
    gemm({
      c: y, a: x, b: this.weight.data, m: rows, n: this.outFeatures, k: this.inFeatures, transB: true,
      bias: this.bias?.data ?? null, beta: opts.accumulate ? 1 : 0, activation: opts.activation, pre: opts.pre ?? null,
    });
  }

  /** dx (rows,in) = dy W, or dx += dy W when accumulate. */
  backwardInput(dx: Float32Array, dy: Float32Array, rows: number, accumulate = false): void {
    gemm({ c: dx, a: dy, b: this.weight.data, m: rows, n: this.inFeatures, k: this.outFeatures, beta: accumulate ? 1 : 0 });
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
