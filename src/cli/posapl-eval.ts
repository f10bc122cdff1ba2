#!/usr/bin/env node
/** posapl-eval: retrieval R@1/5/10 both ways and mR of a POSAPL checkpoint on a test split (spec section 8). */
import * as fs from 'fs';
import * as path from 'path';
import { ImagePipeline, readEvalSet } from '../data';
import { formatMetrics, writeReport } from '../eval';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { loadModel } from '../posapl/loadModel';
import { helpText, OptionSpec, parseArgs, usageError } from './args';
import { runCommand } from './errors';
import { MODEL_OPTIONS, precisionFallback, readModelConfig } from './modelOptions';
import { checkReportTarget } from './reportTarget';
import { checkImagesReadable, countUntaggable, RetrievalSplit } from './runInputs';
import { loadTokenizer } from './tokenizerSource';

const OPTIONS: OptionSpec[] = [
  MODEL_OPTIONS.weights,
  MODEL_OPTIONS.checkpoint,
  { name: 'test', kind: 'string', value: 'FILE', help: 'evaluation split in the authors\' JSON layout' },
  { name: 'images', kind: 'string', value: 'DIR', help: 'folder the JSON image paths are relative to' },
  MODEL_OPTIONS.config,
  MODEL_OPTIONS.tokenizer,
  { name: 'report', kind: 'string', value: 'FILE', help: 'also write an HTML report with top-5 retrieval grids (never over an input, nor over a file that is not such a report unless --force)' },
  { name: 'force', kind: 'flag', help: 'let --report replace an existing file that is not a report' },
  { name: 'workers', kind: 'int', positive: true, value: 'N', help: 'image decoding threads (default: the number of cores)' },
  { name: 'skip-missing', kind: 'flag', help: 'count unreadable images (embedded as blank) instead of stopping' },
  MODEL_OPTIONS.device,
  MODEL_OPTIONS.precision,
  { name: 'json', kind: 'flag', help: 'print the metrics as one JSON object on the last line' },
  { name: 'help', kind: 'flag', help: 'show this help' },
];

const warn = (line: string) => process.stderr.write(`posapl-eval: warning: ${line}\n`);

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
  const root = args.images as string;
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw posaplError('POSAPL_IO', `--images ${root}: no such folder`);
  const report = args.report as string | undefined;
  if (report !== undefined) {
    const inputs = { weights: args.weights, checkpoint: args.checkpoint, test: args.test, config: args.config, tokenizer: args.tokenizer } as Record<string, string | undefined>;
    checkReportTarget(report, inputs, Boolean(args.force));
  }
  // Everything is read and checked before the model loads.
  const config = readModelConfig(args.config as string, warn);
  const images = readEvalSet(args.test as string);
  const skipMissing = Boolean(args['skip-missing']);
  // Unreadable images stop the run here, or with --skip-missing are counted when evaluated.
  checkImagesReadable(root, images.map((im) => im.image), skipMissing);
  const untaggable = countUntaggable(images.flatMap((e) => e.captions.map((caption, k) => ({ caption, pos: e.pos?.[k] }))));
  if (untaggable) warn(`${untaggable} caption(s) without POS words in the file are in a script the English POS tagger cannot read; their POS words are guesses`);
  const tokenizer = await loadTokenizer(args.tokenizer as string | undefined, args.weights as string);
  const model = await loadModel({ config, weights: args.weights as string, checkpoint: args.checkpoint as string, device: args.device as 'cpu', precision: args.precision as Precision });
  const fallback = precisionFallback(args.precision, model.precision);
  if (fallback) process.stderr.write(`posapl-eval: ${fallback}\n`);
  const pipeline = new ImagePipeline({ root, imageSize: config.vision_cfg.image_size, workers: args.workers as number | undefined, skipMissing });
  // Progress on a terminal only: a log keeps the results alone.
  const terminal = process.stderr.isTTY === true;
  const onProgress = terminal ? (text: string) => process.stderr.write(`\r\x1b[Kposapl-eval: ${text}`) : undefined;
  try {
    const split = new RetrievalSplit('test', images, pipeline, tokenizer, config.text_cfg.context_length, onProgress);
    const metrics = await split.evaluate(model);
    if (terminal) process.stderr.write('\r\x1b[K');
    if (split.skipped.size) warn(`--skip-missing: ${split.skipped.size} image(s) could not be read and were embedded blank: ${[...split.skipped].slice(0, 5).join(', ')}${split.skipped.size > 5 ? ', ...' : ''}`);
    if (report && split.last) {
      await writeReport(report, {
        title: `POSAPL evaluation of ${path.basename(args.checkpoint as string)}`,
        summary: {
          weights: args.weights as string, checkpoint: args.checkpoint as string, test: args.test as string, precision: model.precision,
          ...(split.skipped.size ? { 'unreadable images (blank)': split.skipped.size } : {}),
        },
        results: [{ label: 'test', metrics: split.last.metrics }],
        retrieval: { images: images.map((im) => path.join(root, im.image)), captions: split.captions, textImage: split.textImage, sims: split.last.sims },
      });
    }
    process.stdout.write(args.json ? `${JSON.stringify(metrics)}\n` : `${formatMetrics(metrics as never)}\n`);
    return 0;
  } finally {
    await pipeline.close();
  }
}

runCommand('posapl-eval', () => main(process.argv.slice(2)));
