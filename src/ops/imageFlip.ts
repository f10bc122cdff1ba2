/** Horizontal mirror of uint8 RGB (HWC) images. */
import { addon } from '../native/addon';

/** out (h,w,3) = input (h,w,3) with its columns reversed. */
export function imageFlipHorizontal(out: Uint8Array, input: Uint8Array, h: number, w: number): void {
  addon().imageFlipHorizontal({ out, input, h, w });
}
