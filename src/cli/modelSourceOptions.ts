/**
 * The model options posapl-index and posapl-search share with posapl-eval (--config, --weights,
 * --checkpoint, --tokenizer, --precision, --device, plus --seed for a backbone without a weights
 * file), and the ModelSource they describe.
 */
import * as fs from 'fs';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { ModelSource } from '../search/modelRecord';
import { OptionSpec, ParsedArgs, usageError } from './args';
import { MODEL_OPTIONS as SHARED, readModelConfig } from './modelOptions';
import { findTokenizer } from './tokenizerSource';

// Without a default, so that an update can tell "not given" (use what the index records).
const withoutDefault = (spec: OptionSpec, help: string): OptionSpec => ({ ...spec, default: undefined, help });

export const MODEL_OPTIONS: OptionSpec[] = [
  withoutDefault(SHARED.config, `${SHARED.config.help} (default for a new index: rsitmd)`),
  SHARED.weights,
  SHARED.checkpoint,
  { name: 'seed', kind: 'int', value: 'N', help: 'instead of --weights: a random backbone initialised from seed N (tests, demos)' },
  SHARED.tokenizer,
  SHARED.device,
  withoutDefault(SHARED.precision, `${SHARED.precision.help}; default: fp32, or what the index records`),
];

const IDENTITY = ['config', 'weights', 'checkpoint', 'seed', 'tokenizer'];

/** Whether any option naming a model (not only its precision or device) was given. */
export function modelGiven(args: ParsedArgs): boolean {
  return IDENTITY.some((k) => args[k] !== undefined);
}

/** The model the options describe; `warn` receives warnings about the config file. */
export function modelSourceFrom(args: ParsedArgs, warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): ModelSource {
  for (const k of ['weights', 'checkpoint'] as const) {
    if (args[k] !== undefined && !fs.existsSync(args[k] as string)) throw posaplError('POSAPL_IO', `--${k} ${args[k]}: no such file`);
  }
  if (args.weights === undefined && args.seed === undefined) throw usageError('pass --weights (the open_clip backbone), or --seed N for a random backbone');
  if (args.weights !== undefined && args.seed !== undefined) throw usageError('--weights and --seed exclude each other (--seed initialises a random backbone)');
  const config = readModelConfig((args.config as string | undefined) ?? 'rsitmd', warn);
  const tokenizerArg = args.tokenizer as string | undefined;
  const tokenizer = tokenizerArg === 'byte-level' ? 'byte-level' : findTokenizer(tokenizerArg, args.weights as string | undefined);
  return {
    config, weights: args.weights as string | undefined, checkpoint: args.checkpoint as string | undefined,
    random: args.weights === undefined, seed: args.seed as number | undefined, tokenizer,
    precision: (args.precision as Precision | undefined) ?? 'fp32', device: args.device as 'cpu' | 'cuda' | undefined,
  };
}
