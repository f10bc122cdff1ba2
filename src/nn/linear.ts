/**
 * A torch Linear over rows: y (rows,out) = x (rows,in) W^T + b, with W (out,in). Frozen
 * Linears only pass gradients through; trainable ones also accumulate dW and db.
 *
 * In precision 'bf16' a frozen Linear keeps W packed as bf16 (W^T for the forward; W for the
 * input gradient, from the first backward on) and runs both products on the bf16 kernel;
 * trainable ones stay fp32.
 */
import { Activation, Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { LinearWeights, Parameter } from './parameter';

/**
 * Arithmetic of the frozen backbone's products: fp32; tf32 (CUDA: TF32 tensor cores, fp32 on the
 * CPU); bf16 (bf16 operands, fp32 accumulation: AMX on the CPU, tensor cores on CUDA).
 */
export type Precision = 'fp32' | 'tf32' | 'bf16';

export class Linear {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  // The input gradient's copy is packed on the first backward, so inference never holds it.
  private packed: { forward: Tensor; backward: Tensor | null } | null = null;

  constructor(private readonly backend: Backend, w: LinearWeights) {
    this.weight = w.weight;
    this.bias = w.bias;
    [this.outFeatures, this.inFeatures] = w.weight.value.shape;
  }

  /** Packs (bf16) or drops (fp32) the bf16 copies of a frozen W; call after W is final. */
  setPrecision(precision: Precision): void {
    if (this.packed) {
      this.backend.free(this.packed.forward);
      if (this.packed.backward) this.backend.free(this.packed.backward);
    }
    this.packed = precision === 'bf16' && this.weight.grad === null
      ? { forward: this.backend.bf16Pack(this.weight.value, this.inFeatures, this.outFeatures, true), backward: null }
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
    y: Tensor, x: Tensor, rows: number,
    opts: { activation?: Activation; pre?: Tensor; accumulate?: boolean; inputActivation?: Activation; residual?: Tensor } = {},
  ): void {
    const common = {
      c: y, a: x, m: rows, n: this.outFeatures, k: this.inFeatures,
      bias: this.bias?.value ?? null, beta: opts.accumulate ? 1 : 0, activation: opts.activation, pre: opts.pre ?? null,
    };
    if (this.packed) this.backend.gemmBf16({ ...common, packed: this.packed.forward, aActivation: opts.inputActivation, residual: opts.residual });
    else if ((opts.inputActivation && opts.inputActivation !== 'none') || opts.residual) throw new Error('Linear: inputActivation and residual need precision bf16');
    else this.backend.gemm({ ...common, b: this.weight.value, transB: true });
  }

  /** dx (rows,in) = dy W, or dx += dy W when accumulate. */
  backwardInput(dx: Tensor, dy: Tensor, rows: number, accumulate = false): void {
    const common = { c: dx, a: dy, m: rows, n: this.inFeatures, k: this.outFeatures, beta: accumulate ? 1 : 0 };
    if (this.packed) {
      this.packed.backward ??= this.backend.bf16Pack(this.weight.value, this.outFeatures, this.inFeatures, false);
      this.backend.gemmBf16({ ...common, packed: this.packed.backward });
    } else {
      this.backend.gemm({ ...common, b: this.weight.value });
    }
  }

  /** dW += dy^T x and db += column sums of dy; only for trainable Linears. */
  backwardParams(dy: Tensor, x: Tensor, rows: number): void {
    const dW = this.weight.grad;
    if (!dW) return;
    this.backend.gemm({ c: dW, a: dy, b: x, m: this.outFeatures, n: this.inFeatures, k: rows, transA: true, beta: 1 });
    const db = this.bias?.grad;
    if (db) this.backend.biasGrad(db, dy, rows, this.outFeatures, true);
  }
}
