/**
 * Tensor element types of checkpoints and the typed arrays that hold them. Half-precision
 * formats (float16, bfloat16) are kept as their raw 16-bit patterns in a Uint16Array;
 * {@link toFloat32} widens them.
 */
import { checkpointError } from './errors';

/** The typed array that holds each element type. */
export interface TensorArrays {
  float32: Float32Array;
  float64: Float64Array;
  /** IEEE half: raw bit patterns. */
  float16: Uint16Array;
  /** bfloat16: raw bit patterns (the top half of a float32). */
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  /** One byte per element, 0 or 1. */
  bool: Uint8Array;
}

/** Element type of a checkpoint tensor. */
export type DType = keyof TensorArrays;

/** Any array that {@link TensorEntry} data can be. */
export type TensorData = TensorArrays[DType];

/** One tensor of a state dict: element type, shape (row-major, contiguous) and data. */
export type TensorEntry = { [D in DType]: { dtype: D; shape: number[]; data: TensorArrays[D] } }[DType];

/** A state dict: tensor name to tensor, in checkpoint order. */
export type StateDict = Map<string, TensorEntry>;

type TypedArrayConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => TensorData;

const ARRAY_OF: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return (ARRAY_OF[dtype] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

/** Whether `value` names a supported element type. */
export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ARRAY_OF, value);
}

/** Product of the dims (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A zeroed array for `numel` elements of `dtype`. Allocation failure (a size the engine refuses)
 * becomes a coded error naming the tensor instead of a bare RangeError.
 */
export function allocateTensorData(dtype: DType, numel: number, file: string, tensor: string): TensorData {
  const bytes = numel * itemSize(dtype);
  let buffer: ArrayBuffer;
  try {
    buffer = new ArrayBuffer(bytes);
  } catch {
    throw checkpointError('POSAPL_TENSOR', file, `tensor '${tensor}' needs ${bytes} bytes, more than can be allocated`);
  }
  return new ARRAY_OF[dtype](buffer, 0, numel);
}

/**
 * Whether `data` is the typed-array kind that holds `dtype`. Compared by tag, not instanceof,
 * so arrays from another realm (worker, vm context, jest) are recognised.
 */
export function isArrayOf(dtype: DType, data: unknown): boolean {
  return ArrayBuffer.isView(data) && Object.prototype.toString.call(data) === `[object ${ARRAY_OF[dtype].name}]`;
}

/** The bytes of a typed array, without copying. */
export function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
