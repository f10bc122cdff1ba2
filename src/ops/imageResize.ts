/**
 * Bicubic resampling of uint8 RGB (HWC) images, bit-exact with Pillow's
 * Image.resize(BICUBIC) on 8-bit images: the test transform's Resize and the resampling step of
 * RandomResizedCrop.
 */
import { addon } from '../native/addon';

/** A box of pixels: rows [top, top + height), columns [left, left + width). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Arguments of {@link imageResizeBicubic}. */
export interface ImageResizeArgs {
  /** Output (outHeight, outWidth, 3). */
  out: Uint8Array;
  /** Input (height, width, 3). */
  input: Uint8Array;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  /** The part of the input to resample, cropped first (taps never leave it); the whole image by default. */
  box?: CropBox;
}

/** Crops `box` from the input and resizes it to outHeight x outWidth as PIL's bicubic does. */
export function imageResizeBicubic(a: ImageResizeArgs): void {
  const box = a.box ?? { top: 0, left: 0, height: a.height, width: a.width };
  addon().imageResizeBicubic({
    out: a.out, input: a.input, h: a.height, w: a.width, top: box.top, left: box.left, boxH: box.height, boxW: box.width,
    outH: a.outHeight, outW: a.outWidth,
  });
}
