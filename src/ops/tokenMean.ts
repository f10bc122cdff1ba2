/**
 * The vision Side Fusion's token ops: the mean over tokens, (B,L,C) -> (B,C), and the
 * broadcast of a (B,C) row back over the tokens, (B,L,C) + (B,C) -> (B,L,C).
 */
import { addon } from '../native/addon';

/** out (B,C) = mean over l of x (B,L,C). */
export function tokenMeanForward(out: Float32Array, x: Float32Array, b: number, l: number, c: number): void {
  addon().tokenMeanForward({ out, x, b, l, c });
}

/** dx (B,L,C), overwritten, = dout (B,C) / L on every token. */
export function tokenMeanBackward(dx: Float32Array, dout: Float32Array, b: number, l: number, c: number): void {
  addon().tokenMeanBackward({ dx, dout, b, l, c });
}

/** out (B,L,C) = x (B,L,C) + s (B,C) on every token. */
export function broadcastAddForward(
  out: Float32Array, x: Float32Array, s: Float32Array, b: number, l: number, c: number,
): void {
  addon().broadcastAddForward({ out, x, s, b, l, c });
}

/**
 * ds (B,C), overwritten, = sum over l of dout (B,L,C). The gradient for x is dout itself,
 * so none is computed.
 */
export function broadcastAddBackward(ds: Float32Array, dout: Float32Array, b: number, l: number, c: number): void {
  addon().broadcastAddBackward({ ds, dout, b, l, c });
}
