/**
 * The RandAugment operations of the authors' posapl_0_randaugment.py on uint8 RGB (HWC)
 * images, with their numpy/OpenCV arithmetic (see native/include/posapl/image_augment.h).
 */
import { addon } from '../native/addon';

/** The operations, by the authors' names, in native code order. */
export const AUGMENT_OPS = [
  'Identity', 'AutoContrast', 'Equalize', 'Brightness', 'Sharpness',
  'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate',
] as const;

/** One of {@link AUGMENT_OPS}. */
export type AugmentOpName = (typeof AUGMENT_OPS)[number];

/**
 * out (h,w,3) = op(input (h,w,3)). `magnitude` is the op's argument: the enhance factor
 * (Brightness, Sharpness), the shear factor, the shift in pixels, or degrees counter-clockwise
 * (Rotate); ignored by Identity, AutoContrast and Equalize. Geometric ops fill with `fill`.
 */
export function imageAugment(
  out: Uint8Array, input: Uint8Array, h: number, w: number, op: AugmentOpName, magnitude = 0, fill = 128,
): void {
  const code = AUGMENT_OPS.indexOf(op);
  if (code < 0) {
    const error = new Error(
      `Expected one of ${AUGMENT_OPS.join(', ')} for op but received ${JSON.stringify(op)}`,
    ) as Error & { code: string };
    error.code = 'POSAPL_TYPE';
    throw error;
  }
  addon().imageAugment({ out, input, h, w, op: code, magnitude, fill });
}
