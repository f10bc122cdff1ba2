import { axpy } from '../ops/elementwise';

/** Row gathers and scatters between token-major buffers, one native memcpy (TypedArray.set) per row. */

/** out (n,C) = x[i, index[i], :] for a (n,L,C) buffer x. */
export function gatherRows(out: Float32Array, x: Float32Array, index: ArrayLike<number>, n: number, L: number, C: number): void {
  for (let i = 0; i < n; i++) {
    const src = (i * L + index[i]) * C;
    out.set(x.subarray(src, src + C), i * C);
  }
}

/** dx (n,L,C) is zeroed, then dx[i, index[i], :] = rows[i, :]. */
export function scatterRows(dx: Float32Array, rows: Float32Array, index: ArrayLike<number>, n: number, L: number, C: number): void {
  dx.fill(0);
  for (let i = 0; i < n; i++) dx.set(rows.subarray(i * C, (i + 1) * C), (i * L + index[i]) * C);
}

/** dx[i, index[i], :] += rows[i, :] for a (n,L,C) buffer dx. */
export function scatterAddRows(dx: Float32Array, rows: Float32Array, index: ArrayLike<number>, n: number, L: number, C: number): void {
  for (let i = 0; i < n; i++) {
    const dst = (i * L + index[i]) * C;
    axpy(dx.subarray(dst, dst + C), rows.subarray(i * C, (i + 1) * C), 1, C);
  }
}
