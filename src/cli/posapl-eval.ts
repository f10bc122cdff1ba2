#!/usr/bin/env node
/** posapl-eval: retrieval R@1/5/10 both ways and mR of a POSAPL checkpoint on a test split (spec section 8). */
import * as fs from 'fs';
import * as path from 'path';
import { PRESETS, resolveConfig } from '../clip/config';
import { ImagePipeline, readEvalSet } from '../data';
import { formatMetrics, writeReport } from '../eval';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { loadModel } from '../posapl/loadModel';
import { helpText, OptionSpec, parseArgs, usageError } from './args';
import { runCommand } from './errors';
import { RetrievalSplit } from './runInputs';
import { loadTokenizer } from './tokenizerSource';

const OPTIONS: OptionSpec[] = [
  { name: 'weights', kind: 'string', value: 'FILE', help: 'open_clip ViT-B/32 weights (the frozen backbone)' },
  { name: 'checkpoint', kind: 'string', value: 'FILE', help: 'POSAPL checkpoint (posapl-train\'s best.safetensors, or the authors\' state dict)' },
  { name: 'test', kind: 'string', value: 'FILE', help: 'evaluation split in the authors\' JSON layout' },
  { name: 'images', kind: 'string', value: 'DIR', help: 'folder the JSON image paths are relative to' },
  { name: 'config', kind: 'string', value: 'NAME|FILE', help: "'rsitmd', 'rsicd' or a JSON config", default: 'rsitmd' },
  { name: 'tokenizer', kind: 'string', value: 'PATH', help: 'CLIP tokenizer (default: beside --weights, else $POSAPL_TOKENIZER)' },
  { name: 'report', kind: 'string', value: 'FILE', help: 'also write an HTML report with top-5 retrieval grids' },
  { name: 'workers', kind: 'int', value: 'N', help: 'image decoding threads (default: the number of cores)' },
  { name: 'skip-missing', kind: 'flag', help: 'count unreadable images (embedded as blank) instead of stopping' },
  { name: 'device', kind: 'string', help: 'where to compute', default: 'cpu', choices: ['cpu', 'cuda'] },
  { name: 'precision', kind: 'string', help: "frozen backbone's products: fp32, or bf16 (AMX; falls back to fp32 where the CPU lacks it)", default: 'fp32', choices: ['fp32', 'bf16'] },
  { name: 'json', kind: 'flag', help: 'print the metrics as one JSON object on the last line' },
  { name: 'help', kind: 'flag', help: 'show this help' },
];

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(helpText('posapl-eval', 'Evaluates image-text retrieval of a POSAPL checkpoint: R@1/5/10 both ways and mR.', OPTIONS));
    return 0;
  }
  const args = parseArgs(argv, OPTIONS);
  const missing = ['weights', 'checkpoint', 'test', 'images'].filter((k) => args[k] === undefined);
  if (missing.length) throw usageError(`missing ${missing.map((k) => `--${k}`).join(', ')} (see --help)`);
  for (const k of ['weights', 'checkpoint', 'test'] as const) {
    if (!fs.existsSync(args[k] as string)) throw posaplError('POSAPL_IO', `--${k} ${args[k]}: no such file`);
  }
  const configArg = args.config as string;
  const config = configArg in PRESETS ? resolveConfig(configArg as 'rsitmd') : resolveConfig(JSON.parse(fs.readFileSync(configArg, 'utf8')));
  const tokenizer = await loadTokenizer(args.tokenizer as string | undefined, args.weights as string);
  const model = await loadModel({ config, weights: args.weights as string, checkpoint: args.checkpoint as string, device: args.device as 'cpu', precision: args.precision as Precision });
  if (args.precision !== model.precision) process.stderr.write(`posapl-eval: --precision ${String(args.precision)}: this CPU (or OS) has no AMX-BF16, running ${model.precision}\n`);
  const images = readEvalSet(args.test as string);
  const pipeline = new ImagePipeline({
    root: args.images as string, imageSize: config.vision_cfg.image_size,
    workers: args.workers as number | undefined, skipMissing: Boolean(args['skip-missing']),
  });
  try {
    const split = new RetrievalSplit('test', images, pipeline, tokenizer, config.text_cfg.context_length);
    const metrics = await split.evaluate(model);
    if (args.report && split.last) {
      await writeReport(args.report as string, {
        title: `POSAPL evaluation of ${path.basename(args.checkpoint as string)}`,
        summary: { weights: args.weights as string, checkpoint: args.checkpoint as string, test: args.test as string, precision: model.precision },
        results: [{ label: 'test', metrics: split.last.metrics }],
        retrieval: { images: images.map((im) => path.join(args.images as string, im.image)), captions: split.captions, textImage: split.textImage, sims: split.last.sims },
      });
    }
    process.stdout.write(args.json ? `${JSON.stringify(metrics)}\n` : `${formatMetrics(metrics as never)}\n`);
    return 0;
  } finally {
    await pipeline.close();
  }
}

runCommand('posapl-eval', () => main(process.argv.slice(2)));
