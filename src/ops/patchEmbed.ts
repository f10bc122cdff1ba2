/** The ViT stem as one native op. */
import { addon } from '../native/addon';

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
  addon().patchEmbed({
    out: a.out, pixels: a.pixels, weight: a.weight, classEmbedding: a.classEmbedding, positional: a.positional,
    n: a.n, imageSize: a.imageSize, patchSize: a.patchSize, width: a.width,
  });
}
