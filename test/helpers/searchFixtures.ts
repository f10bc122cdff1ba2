/** A tiny CLIP-shaped model source and real image files (PNG, JPEG, TIFF through sharp) for the search tests. */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { ModelSource } from '../../src/search/modelRecord';

/** Small enough to encode hundreds of images a second; the byte-level tokenizer needs no file. */
export const TINY_CONFIG = {
  embed_dim: 16,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 7, head_width: 8 },
  text_cfg: { context_length: 32, vocab_size: 514, width: 16, heads: 2, layers: 7 },
  posapl: { down_dim: 8, sa_heads: 2, pos_side: false, down_dim_pos: 8, side_fusion: 'end-add' as const },
};

export function tinySource(seed = 7): ModelSource {
  return { config: TINY_CONFIG, random: true, seed, tokenizer: 'byte-level' };
}

const FORMATS = ['png', 'jpg', 'tif'] as const;

/** Writes image `i` (a pattern of its own) to `file`, format by extension. */
export async function writeImage(file: string, i: number, side = 40): Promise<void> {
  const raw = Buffer.alloc(side * side * 3);
  for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 7) + (p % 3) * 50 * i + ((p / (3 * side)) | 0) * i * 3) & 255;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const image = sharp(raw, { raw: { width: side, height: side, channels: 3 } });
  const ext = path.extname(file).slice(1);
  await (ext === 'png' ? image.png() : ext === 'tif' ? image.tiff() : image.jpeg()).toFile(file);
}

/** `n` images under `dir` (some in a subfolder), returned as the paths written. */
export async function writeImages(dir: string, n: number, first = 0): Promise<string[]> {
  const files = Array.from({ length: n }, (_, k) => {
    const i = first + k;
    return path.join(dir, i % 4 === 3 ? 'sub' : '', `image_${String(i).padStart(3, '0')}.${FORMATS[i % 3]}`);
  });
  await Promise.all(files.map((f, k) => writeImage(f, first + k)));
  return files;
}
