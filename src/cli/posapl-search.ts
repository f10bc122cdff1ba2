#!/usr/bin/env node
/** posapl-search: ranks an index's images by a text or an image query, or serves a local search page. */
import * as path from 'path';
import { writeAtomically } from '../io/atomicWrite';
import { Precision } from '../nn/linear';
import { SearchPrecision } from '../search/exactSearch';
import { loadRetrievalModel } from '../search/modelRecord';
import { RetrievalIndex, SearchResult } from '../search/retrievalIndex';
import { resultsPage } from '../search/searchPage';
import { serveIndex } from '../search/searchServer';
import { thumbnail } from '../search/thumbnail';
import { helpText, OptionSpec, parseCommandLine, usageError } from './args';
import { runCommand } from './errors';
import { MODEL_OPTIONS, modelGiven, modelSourceFrom } from './modelSourceOptions';

const OPTIONS: OptionSpec[] = [
  { name: 'k', kind: 'int', value: 'N', help: 'results', default: 10, alias: 'k', positive: true },
  { name: 'image', kind: 'string', value: 'FILE', help: 'search by this image instead of a text' },
  { name: 'json', kind: 'flag', help: 'print {"query": ..., "results": [{"rank", "path", "score"}, ...]}' },
  { name: 'html', kind: 'string', value: 'FILE', help: 'also write a self-contained page of the top-k thumbnails and scores' },
  { name: 'serve', kind: 'flag', help: 'serve a local search page on 127.0.0.1 (the address is the first line printed)' },
  { name: 'port', kind: 'int', value: 'N', help: 'port of --serve (0: any free port)', default: 0 },
  { name: 'search-precision', kind: 'string', help: 'arithmetic of the exact search', default: 'fp32', choices: ['fp32', 'bf16'] },
  { name: 'approximate', kind: 'flag', help: 'search an HNSW graph (optional package usearch), built in memory at the first query, instead of exactly' },
  ...MODEL_OPTIONS,
  { name: 'help', kind: 'flag', help: 'show this help' },
];

const USAGE = 'posapl-search INDEX "query" [-k N] [--image FILE] [--json] [--html FILE]\n       posapl-search INDEX --serve [--port N]';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText(USAGE, 'Ranks the images of a posapl-index index by a text or an image query (cosine similarity, best first).\nThe model is the one the index records unless model options are given (it must be the same model).', OPTIONS));
    return 0;
  }
  // INDEX and the query; a query of several words is one quoted argument.
  const { options: args, positionals } = parseCommandLine(argv, OPTIONS, 2);
  const [dir, query] = positionals;
  if (!dir) throw usageError(`missing INDEX (usage: ${USAGE})`);
  const given = modelGiven(args) ? await loadRetrievalModel(modelSourceFrom(args)) : undefined;
  const index = await RetrievalIndex.open(dir, {
    model: given, precision: args.precision as Precision | undefined,
    searchPrecision: args['search-precision'] as SearchPrecision, approximate: Boolean(args.approximate),
  });
  if (args.serve) {
    if (query !== undefined || args.image !== undefined) throw usageError('--serve takes no query; search on the page');
    const { server, url } = await serveIndex(index, args.port as number);
    process.stdout.write(`${url}\n`);
    process.stderr.write(`posapl-search: serving ${dir} (${index.size} images); Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    index.close();
    return 0;
  }
  if ((query === undefined) === (args.image === undefined)) throw usageError(`give a text query or --image FILE (usage: ${USAGE})`);
  const k = args.k as number;
  try {
    const results = args.image !== undefined ? await index.searchImage(args.image as string, k) : await index.searchText(query as string, k);
    const label = args.image !== undefined ? { image: args.image as string } : (query as string);
    if (args.html) await writeHtml(args.html as string, index, label, results);
    if (args.json) process.stdout.write(`${JSON.stringify({ query: label, results })}\n`);
    else process.stdout.write(results.map((r) => `${String(r.rank).padStart(3)}  ${r.score.toFixed(4)}  ${r.path}`).join('\n') + (results.length ? '\n' : ''));
    return 0;
  } finally {
    index.close();
  }
}

async function writeHtml(file: string, index: RetrievalIndex, query: string | { image: string }, results: SearchResult[]): Promise<void> {
  const thumbs = await Promise.all(results.map(async (r) => {
    const entry = index.entry(r.path);
    const jpeg = entry ? await thumbnail(entry.abs) : null;
    return jpeg ? `data:image/jpeg;base64,${jpeg.toString('base64')}` : null;
  }));
  const title = `posapl-search ${path.basename(path.resolve(index.dir))}: ${typeof query === 'string' ? JSON.stringify(query) : `image ${query.image}`}`;
  await writeAtomically(file, (sink) => sink.write(Buffer.from(resultsPage(title, results, thumbs))));
}

runCommand('posapl-search', () => main(process.argv.slice(2)));
