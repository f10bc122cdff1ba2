#!/usr/bin/env node
/**
 * posapl-train: trains the POSAPL adapters on RSITMD / RSICD (spec section 5) and evaluates
 * them; with no arguments it runs the built-in demo, which needs no download.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PRESETS, resolveConfig, ModelConfig } from '../clip/config';
import { ImagePipeline, readEvalSet, readTrainSet } from '../data';
import { DEMO_CONFIG, DEMO_TRAINING, generateDemoDataset } from '../demo';
import { buildDemoIndex } from '../demo/searchIndex';
import { formatMetrics, writeReport } from '../eval';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { loadModel } from '../posapl/loadModel';
import { ClipTokenizer } from '../text/clipTokenizer';
import { defaultMicroBatch } from '../train/microBatch';
import { Progress } from '../train/progress';
import { Trainer, TrainResult } from '../train/trainer';
import { helpText, OptionSpec, parseArgs, ParsedArgs, usageError } from './args';
import { runCommand } from './errors';
import { RetrievalSplit, trainData } from './runInputs';
import { loadTokenizer } from './tokenizerSource';

const OPTIONS: OptionSpec[] = [
  { name: 'config', kind: 'string', value: 'NAME|FILE', help: "'rsitmd', 'rsicd' or a JSON config (open_clip shape + posapl block)", default: 'rsitmd' },
  { name: 'weights', kind: 'string', value: 'FILE', help: 'open_clip ViT-B/32 weights (open_clip_pytorch_model.bin or .safetensors)' },
  { name: 'train', kind: 'string', value: 'FILE', help: 'training pairs in the authors\' JSON layout' },
  { name: 'test', kind: 'string', value: 'FILE', help: 'test split (evaluated before training and after each epoch; best epoch by its mR)' },
  { name: 'val', kind: 'string', value: 'FILE', help: 'validation split, also evaluated after each epoch' },
  { name: 'images', kind: 'string', value: 'DIR', help: 'folder the JSON image paths are relative to' },
  { name: 'tokenizer', kind: 'string', value: 'PATH', help: 'CLIP tokenizer: bpe_simple_vocab_16e6.txt.gz, tokenizer.json or a folder with vocab.json + merges.txt (default: beside --weights, else $POSAPL_TOKENIZER)' },
  { name: 'epochs', kind: 'int', help: 'training epochs', default: 10 },
  { name: 'batch-size', kind: 'int', help: 'contrastive batch (drop_last, shuffled)', default: 256 },
  { name: 'micro-batch', kind: 'int', value: 'N', help: 'samples run with activations at once (gradient caching below the batch size); default: what fits a quarter of RAM' },
  { name: 'lr', kind: 'number', help: 'peak learning rate of the per-step cosine schedule', default: 1e-3 },
  { name: 'seed', kind: 'int', help: 'seed of the data order and augmentation', default: 2024 },
  { name: 'out', kind: 'string', value: 'DIR', help: 'output folder: log.jsonl, last/best checkpoints, report.html', default: 'posapl-output' },
  { name: 'resume', kind: 'string', value: 'DIR', help: 'continue the run saved in DIR exactly (data order, optimiser, schedule)' },
  { name: 'workers', kind: 'int', value: 'N', help: 'image decoding threads (default: the number of cores)' },
  { name: 'skip-missing', kind: 'flag', help: 'skip and count unreadable images instead of stopping' },
  { name: 'device', kind: 'string', help: 'where to compute', default: 'cpu', choices: ['cpu', 'cuda'] },
  { name: 'precision', kind: 'string', help: "frozen backbone's products: fp32, or bf16 (AMX; falls back to fp32 where the CPU lacks it)", default: 'fp32', choices: ['fp32', 'bf16'] },
  { name: 'json', kind: 'flag', help: 'print one JSON object as the last line of stdout' },
  { name: 'help', kind: 'flag', help: 'show this help' },
];

const SUMMARY =
  'Trains the POSAPL adapters on a frozen open_clip ViT-B/32 and reports retrieval R@1/5/10 and mR.\n' +
  'With no options it runs a small built-in demo that needs no download.';

const RECIPE =
  'Reproduce the paper (RSITMD mR 48.32, RSICD 34.76):\n' +
  '  posapl-train --config rsitmd --weights open_clip_pytorch_model.bin \\\n' +
  '    --train rsitmd/train.json --test rsitmd/test.json --val rsitmd/val.json --images rsitmd/images\n' +
  'See the README for where to get the weights and the images.';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(helpText('posapl-train', SUMMARY, OPTIONS, RECIPE));
    return 0;
  }
  const args = parseArgs(argv, OPTIONS);
  const real = ['weights', 'train', 'test', 'images', 'resume'].some((k) => args[k] !== undefined);
  return real ? train(args) : demo(args);
}

async function train(args: ParsedArgs): Promise<number> {
  const out = (args.resume as string | undefined) ?? (args.out as string);
  const missing = ['weights', 'train', 'test', 'images'].filter((k) => args[k] === undefined);
  if (missing.length) throw usageError(`missing ${missing.map((k) => `--${k}`).join(', ')} (see --help; no options at all runs the demo)`);
  for (const k of ['weights', 'train', 'test', 'val'] as const) {
    const file = args[k] as string | undefined;
    if (file !== undefined && !fs.existsSync(file)) throw posaplError('POSAPL_IO', `--${k} ${file}: no such file`);
  }
  if (!fs.existsSync(args.images as string)) throw posaplError('POSAPL_IO', `--images ${args.images}: no such folder`);
  const config = readConfig(args.config as string);
  const tokenizer = await loadTokenizer(args.tokenizer as string | undefined, args.weights as string);
  const model = await loadModel({ config, weights: args.weights as string, device: args.device as 'cpu' | 'cuda', precision: args.precision as Precision });
  return run(args, model, tokenizer, out, {
    train: readTrainSet(args.train as string),
    test: readEvalSet(args.test as string),
    val: args.val ? readEvalSet(args.val as string) : undefined,
    images: args.images as string,
    title: `POSAPL on ${path.basename(args.train as string)}`,
    weights: args.weights as string,
  });
}

async function demo(args: ParsedArgs): Promise<number> {
  const out = args.out === 'posapl-output' ? 'posapl-demo' : (args.out as string);
  const log = (text: string) => { if (!args.json) process.stdout.write(`${text}\n`); };
  log('posapl-train: no data given, so this runs the built-in demo (no download needed).');
  log(`Generating a small synthetic remote-sensing dataset in ${path.join(out, 'data')} ...`);
  const data = await generateDemoDataset(path.join(out, 'data'), { seed: DEMO_TRAINING.seed });
  const model = await loadModel({ config: DEMO_CONFIG, seed: DEMO_TRAINING.seed, precision: args.precision as Precision });
  // The demo's own settings, unless given on the command line.
  const given = new Set(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')[0]));
  const pick = (name: string, value: number) => (given.has(name) ? args[name] : value);
  const demoArgs: ParsedArgs = {
    ...args,
    config: 'demo',
    epochs: pick('epochs', DEMO_TRAINING.epochs), 'batch-size': pick('batch-size', DEMO_TRAINING.batchSize),
    lr: pick('lr', DEMO_TRAINING.lr), seed: pick('seed', DEMO_TRAINING.seed), 'micro-batch': pick('micro-batch', DEMO_TRAINING.microBatch),
  };
  const code = await run(demoArgs, model, ClipTokenizer.byteLevel(), out, {
    train: readTrainSet(data.train), test: readEvalSet(data.test), images: data.images,
    title: 'POSAPL demo (synthetic scenes, tiny random backbone)', weights: `random (seed ${DEMO_TRAINING.seed})`,
  });
  if (code === 0) {
    const index = await buildDemoIndex(path.join(out, 'index'), data.images, path.join(out, 'best.safetensors'), model.precision);
    log(`Search the demo images by text: npx posapl-search ${path.join(out, 'index')} "a river beside a road" (${index.size} images indexed)`);
  }
  log(`\nThis was the demo. To reproduce the paper, run:\n${RECIPE.split('\n').slice(1).join('\n')}`);
  return code;
}

interface RunInputs {
  train: ReturnType<typeof readTrainSet>;
  test: ReturnType<typeof readEvalSet>;
  val?: ReturnType<typeof readEvalSet>;
  images: string;
  title: string;
  weights: string;
}

async function run(args: ParsedArgs, model: Awaited<ReturnType<typeof loadModel>>, tokenizer: ClipTokenizer, out: string, inputs: RunInputs): Promise<number> {
  const json = Boolean(args.json);
  // Progress and messages go to stderr, so stdout keeps only the results (and --json's line).
  const progress = new Progress(process.stderr);
  const config = model.config;
  const context = config.text_cfg.context_length;
  const pipeline = new ImagePipeline({
    root: inputs.images, imageSize: config.vision_cfg.image_size,
    workers: args.workers as number | undefined, skipMissing: Boolean(args['skip-missing']),
  });
  const stop = { requested: false };
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    progress.line('interrupt: finishing this step, then saving (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  if (args.precision !== model.precision) progress.line(`--precision ${String(args.precision)}: this CPU (or OS) has no AMX-BF16, running ${model.precision}`);
  try {
    const batchSize = args['batch-size'] as number;
    const test = new RetrievalSplit('test', inputs.test, pipeline, tokenizer, context);
    const val = inputs.val ? new RetrievalSplit('val', inputs.val, pipeline, tokenizer, context) : undefined;
    const trainer = new Trainer({
      model, pixels: pipeline, train: trainData(inputs.train, tokenizer, context), test, val,
      epochs: args.epochs as number, batchSize,
      microBatch: (args['micro-batch'] as number | undefined) || defaultMicroBatch(config, batchSize),
      lr: args.lr as number, seed: args.seed as number, outDir: out, resume: args.resume !== undefined,
      progress, stop,
    });
    const result = await trainer.run();
    const report = path.join(out, 'report.html');
    await writeRunReport(report, result, inputs, { ...args, precision: model.precision }, test, out);
    printSummary(result, report, json);
    return result.interrupted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await pipeline.close();
  }
}

async function writeRunReport(file: string, r: TrainResult, inputs: RunInputs, args: ParsedArgs, test: RetrievalSplit, out: string): Promise<void> {
  const events = fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const steps = events.filter((e) => e.type === 'step').map((e) => ({
    step: e.global_step - 1, epoch: e.epoch, contrastive: e.contrastive, triplet: e.triplet, lr: e.lr,
  }));
  const epochs = events.filter((e) => e.type === 'eval' && e.split === 'test').map((e) => ({ epoch: e.epoch, metrics: e.metrics }));
  const results = [{ label: 'before training', metrics: r.before }];
  if (r.bestEpoch >= 0) results.push({ label: `best (epoch ${r.bestEpoch + 1})`, metrics: r.best });
  if (r.final) results.push({ label: 'final', metrics: r.final });
  await writeReport(file, {
    title: inputs.title,
    summary: {
      config: String(args.config), weights: inputs.weights, 'train pairs': inputs.train.length,
      'test images / captions': `${test.images.length} / ${test.captions.length}`,
      epochs: args.epochs as number, batch: args['batch-size'] as number, lr: args.lr as number, seed: args.seed as number,
      precision: String(args.precision),
    },
    results: results as never,
    history: { steps, epochs },
    retrieval: test.last ? {
      images: test.images.map((im) => path.join(inputs.images, im.image)), captions: test.captions,
      textImage: test.textImage, sims: test.last.sims,
    } : undefined,
  });
}

function printSummary(r: TrainResult, report: string, json: boolean): void {
  const lines = [
    `before: ${formatMetrics(r.before as never)}`,
    `best (${r.bestEpoch < 0 ? 'before training: no epoch beat it' : `epoch ${r.bestEpoch + 1}`}): ${formatMetrics(r.best as never)}`,
    ...(r.final ? [`final: ${formatMetrics(r.final as never)}`] : []),
    `checkpoint: ${r.checkpoint}`,
    `report: ${report}`,
    ...(r.skippedImages ? [`skipped unreadable images: ${r.skippedImages}`] : []),
  ];
  if (!json) {
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify({ before: r.before, best: r.best, best_epoch: r.bestEpoch, final: r.final, checkpoint: r.checkpoint, report, interrupted: r.interrupted, skipped_images: r.skippedImages })}\n`);
}

function readConfig(value: string): ModelConfig {
  if (value in PRESETS) return resolveConfig(value as 'rsitmd' | 'rsicd');
  if (!fs.existsSync(value)) throw usageError(`--config must be 'rsitmd', 'rsicd' or a JSON file, but ${value} is neither`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(value, 'utf8'));
  } catch (cause) {
    throw posaplError('POSAPL_CONFIG', `--config ${value}: not valid JSON (${(cause as Error).message})`);
  }
  return resolveConfig(parsed as never);
}

runCommand('posapl-train', () => main(process.argv.slice(2)));
