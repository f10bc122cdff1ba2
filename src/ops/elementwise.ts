/** Element-wise sums between ops, native so no per-element loop runs in JavaScript. */
import { addon } from '../native/addon';

/** y += alpha * x over n elements (y must not overlap x). */
export function axpy(y: Float32Array, x: Float32Array, alpha: number, n: number): void {
  addon().axpy({ y, x, alpha, n });
}

/** out = a + b over n elements (out must not overlap a or b). */
export function add(out: Float32Array, a: Float32Array, b: Float32Array, n: number): void {
  addon().add({ out, a, b, n });
}
