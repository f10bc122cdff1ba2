/**
 * A tensor handle: shape, element type, the device it lives on and that device's storage. The
 * model code passes handles to backend ops and never reads the storage: only the backend that
 * made a tensor knows what its storage is (a typed array on the CPU).
 */

/** Element types: float32, int32 (token ids, row indices) and bf16 (packed frozen weights). */
export type DType = 'f32' | 'i32' | 'bf16';

/** Where a tensor's memory lives. */
export type Device = 'cpu' | 'cuda';

/** Product of a shape; a scalar (shape []) has one element. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class Tensor {
  /** Number of elements. */
  readonly size: number;

  /** Made by a backend only (alloc, view, fromHost); `storage` is that backend's. */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly device: Device,
    readonly storage: unknown,
  ) {
    this.size = numel(shape);
  }
}
