/**
 * Model configuration: open_clip's JSON shape (`ViT-B-32.json`) plus a `posapl` block with
 * the paper's flags and the ablation switches.
 */
import { posaplError } from '../errors';

/** The vision tower of open_clip's config. */
export interface VisionConfig {
  image_size: number;
  patch_size: number;
  width: number;
  layers: number;
  /** Width of one attention head (open_clip's default 64). */
  head_width: number;
}

/** The text tower of open_clip's config. */
export interface TextConfig {
  context_length: number;
  vocab_size: number;
  width: number;
  heads: number;
  layers: number;
}

/** POSAPL's parts and their sizes; every switch defaults to on. */
export interface PosaplFlags {
  /** Width of the SA-adapters' bottleneck (128 in the paper). */
  down_dim: number;
  /** Heads of the SA-adapters' attention (8 in the paper). */
  sa_heads: number;
  /** Per-layer POS adapters on the text tower (RSICD). */
  pos_side: boolean;
  /** Bottleneck width of the per-layer POS adapters. */
  down_dim_pos: number;
  /** How Side Fusion combines the four taps. */
  side_fusion: 'chained' | 'end-add';
  /** Ablation switches. */
  sa_image: boolean;
  sa_text: boolean;
  /** The POS stream (connector at the text input). Off means POS ids are ignored. */
  pos: boolean;
  side_fusion_image: boolean;
  side_fusion_text: boolean;
  /** Weight of the power-scaled triplet loss: 1 in the paper, 0 switches it off. */
  triplet: boolean;
}

/** A complete model configuration. */
export interface ModelConfig {
  embed_dim: number;
  vision_cfg: VisionConfig;
  text_cfg: TextConfig;
  posapl: PosaplFlags;
}

/** What a user may pass: the posapl block and head_width may be partial or absent. */
export interface ModelConfigInput {
  embed_dim: number;
  vision_cfg: Omit<VisionConfig, 'head_width'> & { head_width?: number };
  text_cfg: TextConfig;
  posapl?: Partial<PosaplFlags>;
}

const VIT_B_32 = {
  embed_dim: 512,
  vision_cfg: { image_size: 224, patch_size: 32, width: 768, layers: 12, head_width: 64 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12 },
};

const DEFAULT_FLAGS: PosaplFlags = {
  down_dim: 128,
  sa_heads: 8,
  pos_side: false,
  down_dim_pos: 128,
  side_fusion: 'chained',
  sa_image: true,
  sa_text: true,
  pos: true,
  side_fusion_image: true,
  side_fusion_text: true,
  triplet: true,
};

/** The paper's two configurations (spec section 9) on open_clip ViT-B/32. */
export const PRESETS: Record<'rsitmd' | 'rsicd', ModelConfig> = {
  rsitmd: { ...VIT_B_32, posapl: { ...DEFAULT_FLAGS, pos_side: false, down_dim_pos: 64, side_fusion: 'chained' } },
  rsicd: { ...VIT_B_32, posapl: { ...DEFAULT_FLAGS, pos_side: true, down_dim_pos: 128, side_fusion: 'end-add' } },
};

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw posaplError('POSAPL_CONFIG', `Expected positive integer for ${name} but received ${JSON.stringify(value)}`);
  }
  return value;
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw posaplError('POSAPL_CONFIG', `Expected boolean for ${name} but received ${JSON.stringify(value)}`);
  }
  return value;
}

function divides(width: number, heads: number, what: string): void {
  if (width % heads !== 0) {
    throw posaplError('POSAPL_CONFIG', `Expected ${what} to divide into heads, but ${width} is not a multiple of ${heads}`);
  }
}

/**
 * A preset by name, or a user configuration completed with defaults and checked: every size a
 * positive integer, widths divisible by their heads. Throws POSAPL_CONFIG naming the field.
 */
export function resolveConfig(config: 'rsitmd' | 'rsicd' | ModelConfigInput | ModelConfig): ModelConfig {
  if (typeof config === 'string') {
    const preset = PRESETS[config];
    if (!preset) {
      throw posaplError('POSAPL_CONFIG', `Expected 'rsitmd', 'rsicd' or a config object for config but received ${JSON.stringify(config)}`);
    }
    return structuredClone(preset);
  }
  if (typeof config !== 'object' || config === null) {
    throw posaplError('POSAPL_CONFIG', `Expected 'rsitmd', 'rsicd' or a config object for config but received ${String(config)}`);
  }
  const v = config.vision_cfg ?? ({} as VisionConfig);
  const t = config.text_cfg ?? ({} as TextConfig);
  const vision: VisionConfig = {
    image_size: positiveInteger(v.image_size, 'vision_cfg.image_size'),
    patch_size: positiveInteger(v.patch_size, 'vision_cfg.patch_size'),
    width: positiveInteger(v.width, 'vision_cfg.width'),
    layers: positiveInteger(v.layers, 'vision_cfg.layers'),
    head_width: positiveInteger(v.head_width ?? 64, 'vision_cfg.head_width'),
  };
  const text: TextConfig = {
    context_length: positiveInteger(t.context_length, 'text_cfg.context_length'),
    vocab_size: positiveInteger(t.vocab_size, 'text_cfg.vocab_size'),
    width: positiveInteger(t.width, 'text_cfg.width'),
    heads: positiveInteger(t.heads, 'text_cfg.heads'),
    layers: positiveInteger(t.layers, 'text_cfg.layers'),
  };
  const flags: PosaplFlags = { ...DEFAULT_FLAGS, ...(config.posapl ?? {}) };
  for (const key of ['down_dim', 'sa_heads', 'down_dim_pos'] as const) positiveInteger(flags[key], `posapl.${key}`);
  for (const key of ['pos_side', 'sa_image', 'sa_text', 'pos', 'side_fusion_image', 'side_fusion_text', 'triplet'] as const) {
    boolean(flags[key], `posapl.${key}`);
  }
  if (flags.side_fusion !== 'chained' && flags.side_fusion !== 'end-add') {
    throw posaplError('POSAPL_CONFIG', `Expected 'chained' or 'end-add' for posapl.side_fusion but received ${JSON.stringify(flags.side_fusion)}`);
  }
  if (vision.image_size % vision.patch_size !== 0) {
    throw posaplError('POSAPL_CONFIG', `Expected vision_cfg.patch_size to divide vision_cfg.image_size, but ${vision.image_size} is not a multiple of ${vision.patch_size}`);
  }
  divides(vision.width, vision.head_width, 'vision_cfg.width');
  divides(text.width, text.heads, 'text_cfg.width');
  divides(flags.down_dim, flags.sa_heads, 'posapl.down_dim');
  return {
    embed_dim: positiveInteger(config.embed_dim, 'embed_dim'),
    vision_cfg: vision,
    text_cfg: text,
    posapl: flags,
  };
}

/** Blocks whose outputs Side Fusion taps (L-7, L-5, L-3, L-1); empty below 7 layers. */
export function sideFusionTaps(layers: number): number[] {
  return layers >= 7 ? [layers - 7, layers - 5, layers - 3, layers - 1] : [];
}
