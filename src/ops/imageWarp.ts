/** Affine warps of uint8 RGB (HWC) images, bit-exact with OpenCV's warpAffine(INTER_LINEAR, BORDER_CONSTANT). */
import { addon } from '../native/addon';

/**
 * out (h,w,3) = input (h,w,3) moved by the forward affine map `matrix` ([a, b, c, d, e, f]: the
 * source point (x, y) lands on (a x + b y + c, d x + e y + f)), bilinear, pixels from outside the
 * image reading `fill` (0..255) in every channel.
 */
export function imageWarpAffine(
  out: Uint8Array, input: Uint8Array, h: number, w: number, matrix: ArrayLike<number>, fill: number,
): void {
  if (matrix.length !== 6) {
    const error = new Error(`Expected 6 numbers for matrix but received ${matrix.length}`) as Error & { code: string };
    error.code = 'POSAPL_SHAPE';
    throw error;
  }
  addon().imageWarpAffine({
    out, input, h, w, m0: matrix[0], m1: matrix[1], m2: matrix[2], m3: matrix[3], m4: matrix[4], m5: matrix[5], fill,
  });
}
