#!/usr/bin/env node
/**
 * posapl-train: trains the POSAPL adapters on RSITMD / RSICD (spec section 5) and evaluates
 * them; with no arguments it runs the built-in demo, which needs no download. Everything a run
 * needs is checked before the model loads; a run never writes into another run's folder, two
 * runs never share one, and Ctrl-C or SIGTERM saves before stopping.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ModelConfig } from '../clip/config';
import { EvalImage, ImagePipeline, readEvalSet, readTrainSet, TrainSample } from '../data';
import { DEMO_CONFIG, DEMO_TRAINING, generateDemoDataset } from '../demo';
import { buildDemoIndex } from '../demo/searchIndex';
import { formatMetrics, writeReport } from '../eval';
import { posaplError } from '../errors';
import { saveStateDict } from '../io';
import { TensorEntry } from '../io/dtypes';
import { Precision } from '../nn/linear';
import { loadModel } from '../posapl/loadModel';
import { PosaplModel } from '../posapl/model';
import { ClipTokenizer } from '../text/clipTokenizer';
import { defaultMicroBatch } from '../train/microBatch';
import { Progress } from '../train/progress';
import { Metrics, Trainer, TrainResult } from '../train/trainer';
import { helpText, OptionSpec, parseCommandLine, ParsedArgs, usageError } from './args';
import { runCommand } from './errors';
import { MODEL_OPTIONS, precisionFallback, readModelConfig } from './modelOptions';
import { claimRunFolder, lockRunFolder } from './runFolder';
import { checkImagesReadable, countUntaggable, RetrievalSplit, trainData } from './runInputs';
import { resumedOptions, runSettingsOf, writeRunSettings } from './runSettings';
import { BYTE_LEVEL, loadTokenizer } from './tokenizerSource';

const OPTIONS: OptionSpec[] = [
  MODEL_OPTIONS.config,
  MODEL_OPTIONS.weights,
  { name: 'train', kind: 'string', value: 'FILE', help: 'training pairs in the authors\' JSON layout' },
  { name: 'test', kind: 'string', value: 'FILE', help: 'test split (evaluated before training and after each epoch; best epoch by its mR)' },
  { name: 'val', kind: 'string', value: 'FILE', help: 'validation split, also evaluated after each epoch' },
  { name: 'images', kind: 'string', value: 'DIR', help: 'folder the JSON image paths are relative to' },
  MODEL_OPTIONS.tokenizer,
  { name: 'init', kind: 'string', value: 'FILE', help: 'start a new run from trained adapters (an earlier run\'s best.safetensors) instead of the random initialisation' },
  { name: 'epochs', kind: 'int', positive: true, help: 'training epochs, numbered from 0 in every output', default: 10 },
  { name: 'batch-size', kind: 'int', positive: true, help: 'contrastive batch (drop_last, shuffled)', default: 256 },
  { name: 'micro-batch', kind: 'int', positive: true, value: 'N', help: 'samples run with activations at once (gradient caching below the batch size); default: what fits a quarter of RAM' },
  { name: 'lr', kind: 'number', positive: true, help: 'peak learning rate of the per-step cosine schedule', default: 1e-3 },
  { name: 'seed', kind: 'int', help: 'seed of the data order and augmentation', default: 2024 },
  { name: 'out', kind: 'string', value: 'DIR', help: 'output folder, new or empty: run.json, log.jsonl, last/best checkpoints, report.html (the demo\'s default: posapl-demo)', default: 'posapl-output' },
  { name: 'overwrite', kind: 'flag', help: 'start a new run in an --out that holds an earlier run, replacing its files' },
  { name: 'resume', kind: 'string', value: 'DIR', help: 'continue the run saved in DIR with its own settings (exactly; or re-planned for other --epochs)' },
  { name: 'workers', kind: 'int', positive: true, value: 'N', help: 'image decoding threads (default: the number of cores)' },
  { name: 'image-cache-mb', kind: 'int', value: 'MB', help: 'decoded images kept in memory so each is decoded once per run (0: none)', default: 2048 },
  { name: 'skip-missing', kind: 'flag', help: 'skip and count unreadable images instead of stopping' },
  MODEL_OPTIONS.device,
  MODEL_OPTIONS.precision,
  { name: 'json', kind: 'flag', help: 'print one JSON object as the last line of stdout' },
  { name: 'help', kind: 'flag', help: 'show this help' },
];

const SUMMARY =
  'Trains the POSAPL adapters on a frozen open_clip ViT-B/32 and reports retrieval R@1/5/10 and mR.\n' +
  'With no options it runs a small built-in demo that needs no download.';

const RECIPE =
  'Reproduce the paper (RSITMD mR 48.32, RSICD 34.76):\n' +
  '  posapl-train --config rsitmd --weights open_clip_pytorch_model.bin \\\n' +
  '    --train rsitmd/train.json --test rsitmd/test.json --val rsitmd/val.json --images rsitmd/images --out runs/rsitmd\n' +
  'Continue a stopped run: posapl-train --resume runs/rsitmd; train it longer: add --epochs N.\n' +
  'See the README for where to get the weights and the images.';

const warn = (line: string) => process.stderr.write(`posapl-train: warning: ${line}\n`);

/** What a run reads, all checked before the model loads. */
interface RunInputs {
  config: ModelConfig;
  train: TrainSample[];
  test: EvalImage[];
  val?: EvalImage[];
  images: string;
  title: string;
  /** How the report names the backbone. */
  weights: string;
  /** The demo's posapl-eval command for its best checkpoint (in --json as eval_command). */
  evalCommand?: string;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(helpText('posapl-train', SUMMARY, OPTIONS, RECIPE));
    return 0;
  }
  const { options, given } = parseCommandLine(argv, OPTIONS);
  const real = ['weights', 'train', 'test', 'images', 'resume', 'init'].some((k) => options[k] !== undefined);
  return real ? train(options, given) : demo(options, given);
}

async function train(cli: ParsedArgs, given: Set<string>): Promise<number> {
  let args = cli;
  const resume = cli.resume as string | undefined;
  if (resume !== undefined) {
    if (cli.init !== undefined) throw usageError('--resume continues a run and --init starts one: give one of them');
    if (cli.overwrite) throw usageError('--resume continues the run in its folder; --overwrite would replace it');
    if (given.has('out') && path.resolve(cli.out as string) !== path.resolve(resume)) throw usageError('--resume DIR writes into DIR: leave out --out');
    if (!fs.existsSync(resume) || !fs.statSync(resume).isDirectory()) throw posaplError('POSAPL_IO', `--resume ${resume}: no such folder`);
    args = resumedOptions(resume, cli, given).options;
  }
  const out = resume ?? (args.out as string);
  const missing = ['weights', 'train', 'test', 'images'].filter((k) => args[k] === undefined);
  if (missing.length) throw usageError(`missing ${missing.map((k) => `--${k}`).join(', ')} (see --help; no options at all runs the demo)`);
  const inputs = readInputs(args, `POSAPL on ${path.basename(args.train as string)}`, args.weights as string);
  const release = lockRunFolder(out, resume !== undefined ? '--resume' : '--out');
  try {
    if (resume === undefined) claimRunFolder(out, Boolean(args.overwrite));
    return await trainIn(out, args, inputs, 0);
  } finally {
    release();
  }
}

/** Reads and checks everything a run reads (config, data files, images), before anything heavy. */
function readInputs(args: ParsedArgs, title: string, weightsLabel: string): RunInputs {
  for (const k of ['weights', 'train', 'test', 'val', 'init'] as const) {
    const file = args[k] as string | undefined;
    if (file !== undefined && !fs.existsSync(file)) throw posaplError('POSAPL_IO', `--${k} ${file}: no such file`);
  }
  const images = args.images as string;
  if (!fs.existsSync(images) || !fs.statSync(images).isDirectory()) throw posaplError('POSAPL_IO', `--images ${images}: no such folder`);
  const config = readModelConfig(args.config as string, warn);
  const train = readTrainSet(args.train as string);
  const test = readEvalSet(args.test as string);
  const val = args.val ? readEvalSet(args.val as string) : undefined;
  const all = [...train.map((s) => s.image), ...test.map((e) => e.image), ...(val ?? []).map((e) => e.image)];
  const unreadable = checkImagesReadable(images, all, Boolean(args['skip-missing']));
  if (unreadable.length) warn(`--skip-missing: ${unreadable.length} image(s) cannot be read and will be skipped: ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}`);
  const evalCaptions = (set: EvalImage[]) => set.flatMap((e) => e.captions.map((caption, k) => ({ caption, pos: e.pos?.[k] })));
  const untaggable = countUntaggable([...train, ...evalCaptions(test), ...evalCaptions(val ?? [])]);
  if (untaggable) warn(`${untaggable} caption(s) without POS words in the file are in a script the English POS tagger cannot read; their POS words are guesses (give them "pos" in the file to choose)`);
  return { config, train, test, val, images, title, weights: weightsLabel };
}

/** Trains in the locked folder `out`: loads the model, runs (recording run.json once the run is accepted), reports. */
async function trainIn(out: string, args: ParsedArgs, inputs: RunInputs, initSeed: number): Promise<number> {
  const tokenizer = await loadTokenizer(args.tokenizer as string | undefined, args.weights as string);
  const model = await loadModel({
    config: inputs.config, weights: args.weights as string, checkpoint: args.init as string | undefined, seed: initSeed,
    device: args.device as 'cpu' | 'cuda', precision: args.precision as Precision,
  });
  return run(args, model, tokenizer, out, inputs);
}

async function demo(args: ParsedArgs, given: Set<string>): Promise<number> {
  const out = given.has('out') ? (args.out as string) : 'posapl-demo';
  const log = (text: string) => { if (!args.json) process.stdout.write(`${text}\n`); };
  const release = lockRunFolder(out);
  try {
    claimRunFolder(out, Boolean(args.overwrite));
    log('posapl-train: no data given, so this runs the built-in demo (no download needed).');
    log(`Generating a small synthetic remote-sensing dataset in ${path.join(out, 'data')} ...`);
    const data = await generateDemoDataset(path.join(out, 'data'), { seed: DEMO_TRAINING.seed });
    // The model as files beside the checkpoints, so that posapl-eval and --resume can load it again.
    const files = await writeDemoModel(out);
    // The demo's own settings, unless given on the command line.
    const pick = (name: string, value: number) => (given.has(name) ? args[name] : value);
    const demoArgs: ParsedArgs = {
      ...args, ...files, tokenizer: BYTE_LEVEL, train: data.train, test: data.test, images: data.images,
      epochs: pick('epochs', DEMO_TRAINING.epochs), 'batch-size': pick('batch-size', DEMO_TRAINING.batchSize),
      lr: pick('lr', DEMO_TRAINING.lr), seed: pick('seed', DEMO_TRAINING.seed), 'micro-batch': pick('micro-batch', DEMO_TRAINING.microBatch),
    };
    const inputs = readInputs(demoArgs, 'POSAPL demo (synthetic scenes, tiny random backbone)', `random (seed ${DEMO_TRAINING.seed}), saved as ${files.weights}`);
    inputs.evalCommand = demoEvalCommand(out, data);
    const code = await trainIn(out, demoArgs, inputs, DEMO_TRAINING.seed);
    if (code === 0) {
      const index = await buildDemoIndex(path.join(out, 'index'), data.images, { ...files, checkpoint: path.join(out, 'best.safetensors') }, args.precision as Precision);
      log(`\nSearch the demo images by text: npx posapl-search ${path.join(out, 'index')} "a river beside a road" (${index.size} images indexed)`);
    }
    log(`\nEvaluate the demo's best checkpoint again with:\n  ${inputs.evalCommand}`);
    log(`\nThis was the demo. To reproduce the paper, run:\n${RECIPE.split('\n').slice(1).join('\n')}`);
    return code;
  } finally {
    release();
  }
}

/** Writes the demo's config.json and its seeded random backbone (the frozen tensors) into `out`. */
async function writeDemoModel(out: string): Promise<{ config: string; weights: string }> {
  const config = path.join(out, 'config.json');
  const weights = path.join(out, 'backbone.safetensors');
  fs.writeFileSync(config, `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`);
  const model = await loadModel({ config: DEMO_CONFIG, seed: DEMO_TRAINING.seed, random: true });
  const frozen = new Map<string, TensorEntry>();
  for (const p of model.params.list) if (!p.spec.trainable) frozen.set(p.spec.name, { dtype: 'float32', shape: [...p.spec.shape], data: p.data });
  await saveStateDict(weights, frozen, { format: 'safetensors' });
  return { config, weights };
}

/** The posapl-eval command line that evaluates the demo's best checkpoint. */
export function demoEvalCommand(out: string, data: { test: string; images: string }): string {
  const quote = (s: string) => (/^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['npx', 'posapl-eval', '--config', path.join(out, 'config.json'), '--weights', path.join(out, 'backbone.safetensors'),
    '--tokenizer', BYTE_LEVEL, '--checkpoint', path.join(out, 'best.safetensors'), '--test', data.test, '--images', data.images,
  ].map(quote).join(' ');
}

async function run(args: ParsedArgs, model: PosaplModel, tokenizer: ClipTokenizer, out: string, inputs: RunInputs): Promise<number> {
  const json = Boolean(args.json);
  // Progress and messages go to stderr, so stdout keeps only the results (and --json's line).
  const progress = new Progress(process.stderr);
  const config = model.config;
  const context = config.text_cfg.context_length;
  const pipeline = new ImagePipeline({
    root: inputs.images, imageSize: config.vision_cfg.image_size,
    workers: args.workers as number | undefined, skipMissing: Boolean(args['skip-missing']),
    decodedCacheBytes: (args['image-cache-mb'] as number) * 2 ** 20,
  });
  // Ctrl-C and SIGTERM (a scheduler's stop) both finish the step and save; a second one quits at once.
  const stop = { requested: false };
  let signal: NodeJS.Signals | undefined;
  const onSignal = (received: NodeJS.Signals) => {
    if (stop.requested) process.exit(received === 'SIGTERM' ? 143 : 130);
    stop.requested = true;
    signal = received;
    progress.line(`${received}: finishing this step, then saving (send it again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const fallback = precisionFallback(args.precision, model.precision);
  if (fallback) progress.line(fallback);
  try {
    const batchSize = args['batch-size'] as number;
    const test = new RetrievalSplit('test', inputs.test, pipeline, tokenizer, context);
    const val = inputs.val ? new RetrievalSplit('val', inputs.val, pipeline, tokenizer, context) : undefined;
    const trainer = new Trainer({
      model, pixels: pipeline, train: trainData(inputs.train, tokenizer, context), test, val,
      epochs: args.epochs as number, batchSize,
      microBatch: (args['micro-batch'] as number | undefined) || defaultMicroBatch(config, batchSize),
      lr: args.lr as number, seed: args.seed as number, outDir: out, resume: args.resume !== undefined,
      progress, stop, onStarted: () => writeRunSettings(out, runSettingsOf(args)),
    });
    const result = await trainer.run();
    const report = path.join(out, 'report.html');
    await writeRunReport(report, result, inputs, { ...args, precision: model.precision }, test, out);
    const skippedEval = [...test.skipped, ...(val?.skipped ?? [])];
    if (skippedEval.length) warn(`--skip-missing: ${skippedEval.length} evaluation image(s) could not be read and were embedded blank`);
    printSummary(result, report, json, inputs.evalCommand);
    return result.interrupted ? (signal === 'SIGTERM' ? 143 : 130) : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pipeline.close();
  }
}

async function writeRunReport(file: string, r: TrainResult, inputs: RunInputs, args: ParsedArgs, test: RetrievalSplit, out: string): Promise<void> {
  const events = fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const steps = events.filter((e) => e.type === 'step').map((e) => ({
    step: e.global_step - 1, epoch: e.epoch, contrastive: e.contrastive, triplet: e.triplet, lr: e.lr,
  }));
  const epochs = events.filter((e) => e.type === 'eval' && e.split === 'test').map((e) => ({ epoch: e.epoch, metrics: e.metrics }));
  await writeReport(file, {
    title: inputs.title,
    summary: {
      config: String(args.config), weights: inputs.weights, 'train pairs': inputs.train.length,
      'test images / captions': `${test.images.length} / ${test.captions.length}`,
      epochs: `${args.epochs as number} (numbered 0-${(args.epochs as number) - 1})`, batch: args['batch-size'] as number, lr: args.lr as number, seed: args.seed as number,
      precision: String(args.precision),
      ...(args.init ? { 'initial adapters': String(args.init) } : {}),
    },
    results: resultRows(r) as never,
    history: { steps, epochs },
    retrieval: test.last ? {
      images: test.images.map((im) => path.join(inputs.images, im.image)), captions: test.captions,
      textImage: test.textImage, sims: test.last.sims,
    } : undefined,
  });
}

/** The results table: test before / best / final, and val at the best epoch and at the end. */
function resultRows(r: TrainResult): { label: string; metrics: Metrics }[] {
  const best = r.bestEpoch < 0 ? 'before training: no epoch beat it' : `epoch ${r.bestEpoch}`;
  return [
    { label: 'before training', metrics: r.before },
    ...(r.bestEpoch >= 0 ? [{ label: `best (${best})`, metrics: r.best }] : []),
    ...(r.final ? [{ label: 'final', metrics: r.final }] : []),
    ...(r.bestVal ? [{ label: `val at best (${best})`, metrics: r.bestVal }] : []),
    ...(r.finalVal ? [{ label: 'val final', metrics: r.finalVal }] : []),
  ];
}

function printSummary(r: TrainResult, report: string, json: boolean, evalCommand?: string): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({
      before: r.before, best: r.best, best_epoch: r.bestEpoch, final: r.final, val_best: r.bestVal, val_final: r.finalVal,
      checkpoint: r.checkpoint, report, interrupted: r.interrupted, skipped_images: r.skippedImages,
      ...(evalCommand ? { eval_command: evalCommand } : {}),
    })}\n`);
    return;
  }
  const rows = resultRows(r);
  if (r.bestEpoch < 0) rows.splice(1, 0, { label: 'best (before training: no epoch beat it)', metrics: r.best });
  const lines = [
    ...rows.map((row) => `${row.label}: ${formatMetrics(row.metrics as never)}`),
    `checkpoint: ${r.checkpoint}`,
    `report: ${report}`,
    ...(r.skippedImages ? [`skipped unreadable images: ${r.skippedImages}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

runCommand('posapl-train', () => main(process.argv.slice(2)));
