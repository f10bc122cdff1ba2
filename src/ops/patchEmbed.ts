/** The ViT stem as one native op. */
import { addon } from '../native/addon';

type RawPatchEmbed = (
  out: Float32Array, pixels: Float32Array, weight: Float32Array, classEmbedding: Float32Array,
  positional: Float32Array, n: number, imageSize: number, patchSize: number, width: number,
) => void;

/** Arguments of {@link patchEmbed}. */
export interface PatchEmbedArgs {
  /** Output tokens (n, 1+G*G, width), G = imageSize / patchSize. */
  out: Float32Array;
  /** Normalised pixels (n, 3, imageSize, imageSize). */
  pixels: Float32Array;
  /** conv1.weight (width, 3, patchSize, patchSize). */
  weight: Float32Array;
  /** class_embedding (width). */
  classEmbedding: Float32Array;
  /** positional_embedding (1+G*G, width). */
  positional: Float32Array;
  n: number;
  imageSize: number;
  patchSize: number;
  width: number;
}

/** conv1 (kernel = stride = patch, no bias), class token prepended, positional table added. */
export function patchEmbed(a: PatchEmbedArgs): void {
  (addon().patchEmbed as unknown as RawPatchEmbed)(
    a.out, a.pixels, a.weight, a.classEmbedding, a.positional, a.n, a.imageSize, a.patchSize, a.width,
  );
}
