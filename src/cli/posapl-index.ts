#!/usr/bin/env node
/** posapl-index: builds or updates a retrieval index of image files with a POSAPL model. */
import * as fs from 'fs';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { readImageList } from '../search/imageFiles';
import { isIndex } from '../search/indexStore';
import { loadRetrievalModel } from '../search/modelRecord';
import { AddReport, RetrievalIndex } from '../search/retrievalIndex';
import { formatDuration } from '../train/progress';
import { helpText, OptionSpec, parseArgs, usageError } from './args';
import { runCommand } from './errors';
import { MODEL_OPTIONS, modelGiven, modelSourceFrom } from './modelSourceOptions';

const OPTIONS: OptionSpec[] = [
  { name: 'out', kind: 'string', value: 'INDEX', help: 'index folder (created when absent; updated otherwise)' },
  { name: 'images', kind: 'string', value: 'DIR', help: 'index the image files under DIR (recursively); indexed files gone from DIR are dropped' },
  { name: 'list', kind: 'string', value: 'FILE', help: 'index the image paths listed in FILE, one per line (relative to FILE\'s folder)' },
  ...MODEL_OPTIONS,
  { name: 'dtype', kind: 'string', help: 'storage of a new index\'s embeddings', default: 'float16', choices: ['float16', 'float32'] },
  { name: 'strict', kind: 'flag', help: 'fail on an unreadable file instead of skipping it' },
  { name: 'workers', kind: 'int', value: 'N', help: 'image decoding threads (default: the number of cores)' },
  { name: 'batch-size', kind: 'int', help: 'images per encode call', default: 32 },
  { name: 'json', kind: 'flag', help: 'print the counts as one JSON object on the last line' },
  { name: 'help', kind: 'flag', help: 'show this help' },
];

const SUMMARY =
  'Builds or updates a retrieval index: embeds new and changed image files with a POSAPL model\n' +
  '(unchanged ones are kept, deleted ones dropped) and reports added / updated / unchanged /\n' +
  'removed / skipped counts. Without model options an update uses the model the index records.\n' +
  'Ctrl-C stops after the current batch and keeps what is done; run again to resume.';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(helpText('posapl-index', SUMMARY, OPTIONS, 'Then: posapl-search INDEX "a river beside a road"'));
    return 0;
  }
  const args = parseArgs(argv, OPTIONS);
  if (args.out === undefined) throw usageError('missing --out INDEX (see --help)');
  if ((args.images === undefined) === (args.list === undefined)) throw usageError('give exactly one of --images DIR and --list FILE (see --help)');
  if (args.images !== undefined && !fs.statSync(args.images as string, { throwIfNoEntry: false })?.isDirectory()) {
    throw posaplError('POSAPL_IO', `--images ${args.images}: no such folder`);
  }
  const target = args.images !== undefined ? (args.images as string) : readImageList(args.list as string);
  const out = args.out as string;
  const given = modelGiven(args) ? await loadRetrievalModel(modelSourceFrom(args)) : undefined;
  let index: RetrievalIndex;
  if (isIndex(out)) {
    index = await RetrievalIndex.open(out, { model: given, precision: args.precision as Precision | undefined });
  } else {
    const model = given ?? (await loadRetrievalModel(modelSourceFrom(args)));
    index = await RetrievalIndex.create(out, model, { dtype: args.dtype as 'float16' });
  }
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupt: finishing this batch, then saving (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = Boolean(process.stderr.isTTY);
  let lastLine = 0;
  let report: AddReport;
  try {
    report = await index.add(target, {
      strict: Boolean(args.strict), workers: args.workers as number | undefined, batchSize: args['batch-size'] as number, signal: stop.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (!tty && p.done < p.total && now - lastLine < 10_000) return;
        lastLine = now;
        const text = `indexing ${p.done}/${p.total} ${p.imagesPerSecond.toFixed(1)} images/s ETA ${formatDuration(p.eta)}`;
        process.stderr.write(tty ? `\r${text}\x1b[K${p.done === p.total ? '\n' : ''}` : `${text}\n`);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    index.close();
  }
  const counts = { added: report.added, updated: report.updated, unchanged: report.unchanged, removed: report.removed, skipped: report.skipped.length };
  for (const file of report.skipped.slice(0, 20)) process.stderr.write(`posapl-index: skipped unreadable ${file}\n`);
  if (report.skipped.length > 20) process.stderr.write(`posapl-index: ... and ${report.skipped.length - 20} more unreadable files\n`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ index: out, size: index.size, ...counts, skipped_files: report.skipped, interrupted: report.interrupted })}\n`);
  } else {
    process.stdout.write(`${out}: ${index.size} images (added ${counts.added}, updated ${counts.updated}, unchanged ${counts.unchanged}, removed ${counts.removed}, skipped ${counts.skipped})\n`);
    if (report.interrupted) process.stdout.write(`interrupted: run the same command again to continue\n`);
  }
  return report.interrupted ? 130 : 0;
}

runCommand('posapl-index', () => main(process.argv.slice(2)));
