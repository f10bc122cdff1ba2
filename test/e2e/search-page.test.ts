/**
 * posapl-search --serve as a real process, its page driven in real headless Chromium (Debian's
 * chromium through playwright-core): type a query, see the grid in the library's order, click an
 * image to search by it.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BrowserContext, chromium } from 'playwright-core';
import { loadRetrievalModel } from '../../src/search/modelRecord';
import { RetrievalIndex } from '../../src/search/retrievalIndex';
import { tinySource, writeImages } from '../helpers/searchFixtures';

const SEARCH_BIN = path.resolve(__dirname, '../../lib/cli/posapl-search.js');
const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let server: ChildProcess;
let url: string;
let browser: BrowserContext;
let index: RetrievalIndex;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-search-page-'));
  await writeImages(path.join(dir, 'photos'), 12);
  const model = await loadRetrievalModel(tinySource());
  index = await RetrievalIndex.create(path.join(dir, 'idx'), model);
  await index.add(path.join(dir, 'photos'), { workers: 1 });
  server = spawn(process.execPath, [SEARCH_BIN, path.join(dir, 'idx'), '--serve', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '', err = '';
    server.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    server.stderr?.on('data', (d) => (err += d));
    server.on('exit', (code) => reject(new Error(`posapl-search exited ${code}: ${err}`)));
  });
  // A fresh profile folder (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  index?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('posapl-search --serve in Chromium', () => {
  it('prints a 127.0.0.1 address, answers a query with a grid in the library\'s order, and searches by a clicked image', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage();
    await page.goto(url);
    await page.fill('#q', 'a river beside a road');
    await page.fill('#k', '6');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#results figure');
    const shown = await page.$$eval('#results figure', (fs) => fs.map((f) => (f as HTMLElement).dataset.path));
    const expected = await index.searchText('a river beside a road', 6);
    expect(shown).toEqual(expected.map((r) => r.path));
    // Every thumbnail loaded as an image.
    await page.waitForFunction(() => [...document.querySelectorAll('#results img')].every((i) => (i as HTMLImageElement).complete));
    const widths = await page.$$eval('#results img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(widths.every((w) => w === 192)).toBe(true);
    // Click the third result: the grid becomes the search by that image, which ranks itself first.
    const clicked = shown[2] as string;
    await page.click(`#results figure[data-rank='3'] img`);
    await page.waitForFunction((p) => (document.getElementById('results') as HTMLElement).dataset.query === `image ${p}`, clicked);
    const similar = await page.$$eval('#results figure', (fs) => fs.map((f) => (f as HTMLElement).dataset.path));
    expect(similar).toEqual(index.searchSimilar(clicked, 6).map((r) => r.path));
    expect(similar[0]).toBe(clicked);
    // The same JSON over plain HTTP, and a clear error for a bad request.
    const api = await (await fetch(`${url}search?q=${encodeURIComponent('a river beside a road')}&k=6`)).json();
    expect(api.results.map((r: { path: string }) => r.path)).toEqual(shown);
    const bad = await fetch(`${url}search?q=river&k=0`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('POSAPL_USAGE');
    expect((await fetch(`${url}thumbnail?path=${encodeURIComponent('/etc/passwd')}`)).status).toBe(404);
  });
});
