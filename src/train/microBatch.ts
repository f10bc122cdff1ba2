/**
 * The default micro-batch: as many samples as fit a memory budget with their training
 * activations, so `--batch-size 256` runs on a laptop through gradient caching.
 */
import * as os from 'os';
import { ModelConfig } from '../clip/config';

/** Bytes of training activations one image-caption pair keeps through a forward (an estimate). */
export function activationBytesPerPair(config: ModelConfig): number {
  const v = config.vision_cfg;
  const t = config.text_cfg;
  const f = config.posapl;
  const tower = (tokens: number, width: number, heads: number, layers: number, sa: boolean, posSide: boolean) => {
    // Per block: LN outputs, qkv, attention output, residuals, MLP pre/post (4C each), MLP output,
    // the block output; the softmax; the SA-adapter's saved state; the per-layer POS adapter's.
    let perBlock = tokens * width * 16 + heads * tokens * tokens;
    if (sa) perBlock += tokens * (6 * f.down_dim + 2 * width) + f.sa_heads * tokens * tokens;
    if (posSide) perBlock += tokens * (f.down_dim_pos + width);
    return 4 * layers * perBlock;
  };
  const grid = v.image_size / v.patch_size;
  return (
    tower(1 + grid * grid, v.width, v.width / v.head_width, v.layers, f.sa_image, false) +
    tower(t.context_length, t.width, t.heads, t.layers, f.sa_text, f.pos && f.pos_side)
  );
}

/** The largest micro-batch (at most `batch`) whose activations fit `budget` bytes (default: a quarter of RAM, at most 6 GiB). */
export function defaultMicroBatch(config: ModelConfig, batch: number, budget = Math.min(os.totalmem() / 4, 6 * 2 ** 30)): number {
  return Math.max(1, Math.min(batch, Math.floor(budget / activationBytesPerPair(config))));
}
