/**
 * One allocation for many tensors (llm.c's fill_in_activation_sizes + malloc_and_point_activations):
 * a builder asks a Carver for every tensor it keeps; it runs once to measure, the backend
 * allocates the total once, and it runs again to point each tensor at its slice.
 */
import { Backend } from './backend';
import { DType, Tensor, numel } from './tensor';

/** Hands out the tensors of one arena. */
export interface Carver {
  f32(...shape: number[]): Tensor;
  i32(...shape: number[]): Tensor;
}

// Slices start on 64-byte boundaries, as the SIMD kernels like them.
const ALIGN = 16;

/** Tensors carved from one allocation, and that allocation (to free them all at once). */
export interface Arena<T> {
  readonly tensors: T;
  readonly buffer: Tensor;
}

/** What `build` returns, every tensor it carved living in one zero-filled backend allocation. */
export function carveArena<T>(backend: Backend, build: (carve: Carver) => T): Arena<T> {
  let total = 0;
  const measure = (dtype: DType) => (...shape: number[]) => {
    total += Math.ceil(numel(shape) / ALIGN) * ALIGN;
    return new Tensor(shape, dtype, backend.device, null);
  };
  build({ f32: measure('f32'), i32: measure('i32') });
  const buffer = backend.alloc([Math.max(total, 1)], 'f32');
  let offset = 0;
  const point = (dtype: DType) => (...shape: number[]) => {
    const t = backend.view(buffer, offset, shape, dtype);
    offset += Math.ceil(numel(shape) / ALIGN) * ALIGN;
    return t;
  };
  return { tensors: build({ f32: point('f32'), i32: point('i32') }), buffer };
}
