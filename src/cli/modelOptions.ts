/**
 * The options every command that loads a model shares (--config --weights --checkpoint
 * --tokenizer --precision --device), declared once, and the one reader of --config: a preset
 * name or a JSON file, checked before anything heavy starts, every error naming the file and
 * the field, and unknown keys named in a warning.
 */
import * as fs from 'fs';
import { ModelConfig, PRESETS, resolveConfig } from '../clip/config';
import { jsonErrorOffset, positionOf } from '../data/jsonLocation';
import { posaplError } from '../errors';
import { OptionSpec, usageError } from './args';

/** The shared model options; a command lists the ones it takes, in its own order. */
export const MODEL_OPTIONS = {
  config: { name: 'config', kind: 'string', value: 'NAME|FILE', help: "'rsitmd', 'rsicd' or a JSON config (open_clip's shape plus a posapl block; see the README)", default: 'rsitmd' },
  weights: { name: 'weights', kind: 'string', value: 'FILE', help: 'open_clip ViT-B/32 weights, the frozen backbone (open_clip_pytorch_model.bin or .safetensors)' },
  checkpoint: { name: 'checkpoint', kind: 'string', value: 'FILE', help: "POSAPL checkpoint (posapl-train's best.safetensors, or the authors' state dict)" },
  tokenizer: { name: 'tokenizer', kind: 'string', value: 'PATH', help: "CLIP tokenizer: bpe_simple_vocab_16e6.txt.gz, tokenizer.json, a folder with vocab.json + merges.txt, or 'byte-level' (the demo's) (default: beside --weights, else $POSAPL_TOKENIZER)" },
  precision: { name: 'precision', kind: 'string', help: "frozen backbone's products: fp32; tf32 (CUDA tensor cores; fp32 on the CPU); bf16 (AMX or CUDA tensor cores; fp32 where neither exists)", default: 'fp32', choices: ['fp32', 'tf32', 'bf16'] },
  device: { name: 'device', kind: 'string', help: 'where to compute (cuda needs the CUDA build: npm run build:cuda)', default: 'cpu', choices: ['cpu', 'cuda'] },
} satisfies Record<string, OptionSpec>;

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['embed_dim', 'vision_cfg', 'text_cfg', 'posapl'],
  vision_cfg: ['image_size', 'patch_size', 'width', 'layers', 'head_width'],
  text_cfg: ['context_length', 'vocab_size', 'width', 'heads', 'layers'],
  posapl: Object.keys(PRESETS.rsitmd.posapl),
};

/**
 * open_clip's own config files carry keys the model does not use; these are known and never
 * warned about.
 */
const IGNORED_KEYS = new Set(['quick_gelu', 'custom_text', 'model_cfg', 'preprocess_cfg', 'mlp_ratio', 'hf_model_name', 'hf_tokenizer_name', 'output_tokens', 'ls_init_value', 'patch_dropout', 'init_logit_scale', 'init_logit_bias']);

/** Keys of a config object that no part of the model reads, as dotted paths. */
export function unknownConfigKeys(config: Record<string, unknown>): string[] {
  const unknown: string[] = [];
  for (const [block, known] of Object.entries(KNOWN_KEYS)) {
    const object = block === '' ? config : config[block];
    if (typeof object !== 'object' || object === null || Array.isArray(object)) continue;
    for (const key of Object.keys(object)) {
      if (!known.includes(key) && !IGNORED_KEYS.has(key)) unknown.push(block === '' ? key : `${block}.${key}`);
    }
  }
  return unknown;
}

/**
 * The model configuration `--config value` names: a preset, or a JSON file. Throws POSAPL_USAGE
 * when it is neither, POSAPL_CONFIG naming the file and its line and column or field otherwise;
 * `warn` receives one line naming unknown keys.
 */
export function readModelConfig(value: string, warn: (line: string) => void): ModelConfig {
  if (value in PRESETS) return resolveConfig(value as keyof typeof PRESETS);
  let text: string;
  try {
    text = fs.readFileSync(value, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw usageError(`--config must be ${Object.keys(PRESETS).map((p) => `'${p}'`).join(', ')} or a JSON file, but ${value} is neither`);
    throw posaplError('POSAPL_CONFIG', `--config ${value}: cannot read it (${code === 'EISDIR' ? 'a folder' : (cause as Error).message})`, cause);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    const offset = jsonErrorOffset(text);
    const at = positionOf(text, offset < 0 ? text.length : offset);
    throw posaplError('POSAPL_CONFIG', `--config ${value}:${at.line}:${at.column}: malformed JSON (${(cause as Error).message})`, cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw posaplError('POSAPL_CONFIG', `--config ${value}: expected a JSON object (open_clip's model config plus a posapl block)`);
  }
  const unknown = unknownConfigKeys(parsed as Record<string, unknown>);
  if (unknown.length) warn(`--config ${value}: ignoring unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  try {
    return resolveConfig(parsed as never);
  } catch (error) {
    if ((error as { code?: string }).code !== 'POSAPL_CONFIG') throw error;
    throw posaplError('POSAPL_CONFIG', `--config ${value}: ${(error as Error).message}`, error);
  }
}

/** Why `asked` was not what runs (`running`), for a stderr line; null when it runs as asked. */
export function precisionFallback(asked: unknown, running: string): string | null {
  if (asked === undefined || asked === running) return null;
  const why = asked === 'tf32' ? 'TF32 runs on CUDA only' : 'this CPU (or OS) has no AMX-BF16';
  return `--precision ${String(asked)}: ${why}, running ${running}`;
}
