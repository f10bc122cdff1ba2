/**
 * The local search server of posapl-search --serve, on 127.0.0.1 only:
 *   GET /                          the live page (search box, grid of thumbnails)
 *   GET /search?q=TEXT&k=N         {"query": TEXT, "results": [{rank, path, score}, ...]}
 *   GET /search?image=PATH&k=N     the same for an indexed image (its stored embedding)
 *   GET /thumbnail?path=PATH       a JPEG thumbnail of an indexed image (only indexed ones)
 * Errors answer {"error": {"code", "message"}} with status 400 or 404.
 */
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { posaplError } from '../errors';
import type { RetrievalIndex } from './retrievalIndex';
import { livePage } from './searchPage';
import { thumbnail } from './thumbnail';

/** Largest k a request may ask for. */
const MAX_K = 1000;

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

function parseK(raw: string | null): number {
  if (raw === null) return 10;
  const k = Number(raw);
  if (!/^\d+$/.test(raw) || k < 1 || k > MAX_K) throw posaplError('POSAPL_USAGE', `k must be an integer in [1, ${MAX_K}] but received '${raw}'`);
  return k;
}

async function handle(index: RetrievalIndex, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'POSAPL_USAGE', message: `${req.method} is not supported; use GET` } });
  if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', livePage(path.basename(path.resolve(index.dir)), index.size));
  if (url.pathname === '/search') {
    const k = parseK(url.searchParams.get('k'));
    const q = url.searchParams.get('q');
    const image = url.searchParams.get('image');
    if (q !== null && q.trim() !== '') return sendJson(res, 200, { query: q, results: await index.searchText(q, k) });
    if (image !== null) return sendJson(res, 200, { query: { image }, results: index.searchSimilar(image, k) });
    throw posaplError('POSAPL_USAGE', 'give q=TEXT or image=PATH');
  }
  if (url.pathname === '/thumbnail') {
    const entry = index.entry(url.searchParams.get('path') ?? '');
    if (!entry) throw posaplError('POSAPL_NOT_FOUND', `${url.searchParams.get('path')}: not in the index`);
    const jpeg = await thumbnail(entry.abs);
    if (!jpeg) throw posaplError('POSAPL_NOT_FOUND', `${entry.path}: cannot be read any more`);
    return send(res, 200, 'image/jpeg', jpeg);
  }
  throw posaplError('POSAPL_NOT_FOUND', `${url.pathname}: no such page`);
}

/** Serves `index` on 127.0.0.1:`port` (0: any free port); resolves once listening. */
export async function serveIndex(index: RetrievalIndex, port: number): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    handle(index, req, res).catch((e: { code?: string; message?: string }) => {
      const code = typeof e?.code === 'string' && e.code.startsWith('POSAPL_') ? e.code : 'POSAPL_INTERNAL';
      const status = code === 'POSAPL_NOT_FOUND' ? 404 : code === 'POSAPL_INTERNAL' ? 500 : 400;
      sendJson(res, status, { error: { code, message: e?.message ?? String(e) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(posaplError('POSAPL_IO', `cannot listen on 127.0.0.1:${port}: ${e.message}`, e)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}/` };
}
