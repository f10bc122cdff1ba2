/** torchvision's ToTensor + Normalize: uint8 RGB (HWC) to normalised float32 (CHW). */
import { addon } from '../native/addon';

/** open_clip's image mean (OPENAI_DATASET_MEAN). */
export const CLIP_MEAN: readonly number[] = [0.48145466, 0.4578275, 0.40821073];
/** open_clip's image standard deviation (OPENAI_DATASET_STD). */
export const CLIP_STD: readonly number[] = [0.26862954, 0.26130258, 0.27577711];

/**
 * out (3,h,w) = (input (h,w,3) / 255 - mean) / std per channel, in float32 as torch computes it.
 * `out` may be a view into a batch.
 */
export function imageNormalize(
  out: Float32Array, input: Uint8Array, h: number, w: number,
  mean: ArrayLike<number> = CLIP_MEAN, std: ArrayLike<number> = CLIP_STD,
): void {
  addon().imageNormalize({ out, input, h, w, mean: Float32Array.from(mean), std: Float32Array.from(std) });
}
