/**
 * The model options posapl-index and posapl-search share with posapl-eval (--config, --weights,
 * --checkpoint, --tokenizer, --precision, --device, plus --seed for a backbone without a weights
 * file), and the ModelSource they describe.
 */
import * as fs from 'fs';
import { PRESETS, resolveConfig } from '../clip/config';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { ModelSource } from '../search/modelRecord';
import { OptionSpec, ParsedArgs, usageError } from './args';
import { findTokenizer } from './tokenizerSource';

export const MODEL_OPTIONS: OptionSpec[] = [
  { name: 'config', kind: 'string', value: 'NAME|FILE', help: "'rsitmd', 'rsicd' or a JSON config (default for a new index: rsitmd)" },
  { name: 'weights', kind: 'string', value: 'FILE', help: 'open_clip ViT-B/32 weights (the frozen backbone)' },
  { name: 'checkpoint', kind: 'string', value: 'FILE', help: "POSAPL checkpoint (posapl-train's best.safetensors)" },
  { name: 'seed', kind: 'int', value: 'N', help: 'seed of what no file provides (a random backbone without --weights; default 0)' },
  { name: 'tokenizer', kind: 'string', value: 'PATH', help: "CLIP tokenizer, or 'byte-level' (default: beside --weights, else $POSAPL_TOKENIZER)" },
  { name: 'device', kind: 'string', help: 'where to compute (default cpu)', choices: ['cpu', 'cuda'] },
  { name: 'precision', kind: 'string', help: "frozen backbone's products: fp32 or bf16 (AMX; fp32 where the CPU lacks it); default: fp32, or what the index records", choices: ['fp32', 'bf16'] },
];

const IDENTITY = ['config', 'weights', 'checkpoint', 'seed', 'tokenizer'];

/** Whether any option naming a model (not only its precision or device) was given. */
export function modelGiven(args: ParsedArgs): boolean {
  return IDENTITY.some((k) => args[k] !== undefined);
}

/** The model the options describe. */
export function modelSourceFrom(args: ParsedArgs): ModelSource {
  for (const k of ['weights', 'checkpoint'] as const) {
    if (args[k] !== undefined && !fs.existsSync(args[k] as string)) throw posaplError('POSAPL_IO', `--${k} ${args[k]}: no such file`);
  }
  const configArg = (args.config as string | undefined) ?? 'rsitmd';
  let config;
  if (configArg in PRESETS) config = resolveConfig(configArg as 'rsitmd');
  else if (!fs.existsSync(configArg)) throw usageError(`--config must be 'rsitmd', 'rsicd' or a JSON file, but ${configArg} is neither`);
  else {
    try {
      config = resolveConfig(JSON.parse(fs.readFileSync(configArg, 'utf8')));
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      if (code?.startsWith('POSAPL_')) throw cause;
      throw posaplError('POSAPL_CONFIG', `--config ${configArg}: not valid JSON (${(cause as Error).message})`);
    }
  }
  const tokenizerArg = args.tokenizer as string | undefined;
  const tokenizer = tokenizerArg === 'byte-level' ? 'byte-level' : findTokenizer(tokenizerArg, args.weights as string | undefined);
  return {
    config, weights: args.weights as string | undefined, checkpoint: args.checkpoint as string | undefined,
    seed: args.seed as number | undefined, tokenizer, precision: (args.precision as Precision | undefined) ?? 'fp32',
    device: args.device as 'cpu' | 'cuda' | undefined,
  };
}
