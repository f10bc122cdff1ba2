/**
 * L2 normalisation of rows, as torch.nn.functional.normalize(x, dim=-1): x / max(||x||, 1e-12).
 */
import { addon } from '../native/addon';

/** The lower bound on the norm (torch's default eps). */
export const L2_NORM_EPS = 1e-12;

/** out (N,C) = x (N,C) with each row divided by max(its norm, 1e-12). */
export function l2NormForward(out: Float32Array, x: Float32Array, n: number, c: number): void {
  addon().l2NormForward({ out, x, n, c });
}

/** dx (N,C), overwritten, from dout (N,C) and the forward's input x (N,C). */
export function l2NormBackward(dx: Float32Array, dout: Float32Array, x: Float32Array, n: number, c: number): void {
  addon().l2NormBackward({ dx, dout, x, n, c });
}
