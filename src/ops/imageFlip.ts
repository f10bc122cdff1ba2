/** Horizontal mirror of uint8 RGB (HWC) images. */
import { addon } from '../native/addon';

type Raw = (...args: unknown[]) => void;

/** out (h,w,3) = input (h,w,3) with its columns reversed. */
export function imageFlipHorizontal(out: Uint8Array, input: Uint8Array, h: number, w: number): void {
  (addon().imageFlipHorizontal as unknown as Raw)(out, input, h, w);
}
