/**
 * posapl-index and posapl-search as real processes on real image files, with a tiny model whose
 * config is a JSON file: build, update, --list, --strict, --json, --html, a query from another
 * model refused, and usage errors.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RetrievalIndex } from '../../src/search/retrievalIndex';
import { TINY_CONFIG, writeImages } from '../helpers/searchFixtures';

const ROOT = path.resolve(__dirname, '../..');
const INDEX_BIN = path.join(ROOT, 'lib/cli/posapl-index.js');
const SEARCH_BIN = path.join(ROOT, 'lib/cli/posapl-search.js');

let dir: string;
const MODEL = ['--config', 'config.json', '--tokenizer', 'byte-level', '--seed', '7'];

function run(bin: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
}

function json(r: SpawnSyncReturns<string>): Record<string, unknown> {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

beforeAll(async () => {
  for (const bin of [INDEX_BIN, SEARCH_BIN]) if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build with "npm run build:ts"`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-search-e2e-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(TINY_CONFIG));
  await writeImages(path.join(dir, 'photos'), 10);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('posapl-index', () => {
  it('builds an index of a folder, then updates it with only what changed', () => {
    const built = json(run(INDEX_BIN, ['--out', 'idx', '--images', 'photos', ...MODEL, '--workers', '1', '--json']));
    expect(built).toMatchObject({ size: 10, added: 10, updated: 0, unchanged: 0, removed: 0, skipped: 0 });
    fs.rmSync(path.join(dir, 'photos', 'image_000.png'));
    fs.writeFileSync(path.join(dir, 'photos', 'notes.jpg'), 'not a jpeg');
    // No model options: the update uses the model the index records.
    const updated = run(INDEX_BIN, ['--out', 'idx', '--images', 'photos']);
    expect(updated.status).toBe(0);
    expect(updated.stdout).toMatch(/idx: 9 images \(added 0, updated 0, unchanged 9, removed 1, skipped 1\)/);
    expect(updated.stderr).toMatch(/skipped unreadable photos\/notes\.jpg/);
    const strict = run(INDEX_BIN, ['--out', 'idx', '--images', 'photos', '--strict']);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/posapl-index: cannot read image photos\/notes\.jpg/);
    fs.rmSync(path.join(dir, 'photos', 'notes.jpg'));
  });

  it('indexes a --list of files, and refuses bad options with exit 2', () => {
    fs.writeFileSync(path.join(dir, 'list.txt'), '# two photos\nphotos/image_001.jpg\n\nphotos/sub/image_003.png\n');
    expect(json(run(INDEX_BIN, ['--out', 'listed', '--list', 'list.txt', ...MODEL, '--json']))).toMatchObject({ size: 2, added: 2 });
    expect(run(INDEX_BIN, ['--out', 'x', '--images', 'photos', '--list', 'list.txt']).status).toBe(2);
    expect(run(INDEX_BIN, ['--images', 'photos']).stderr).toMatch(/missing --out/);
    const noFolder = run(INDEX_BIN, ['--out', 'x', '--images', 'nowhere']);
    expect(noFolder.status).toBe(1);
    expect(noFolder.stderr).toMatch(/--images nowhere: no such folder/);
  });
});

describe('posapl-search', () => {
  it('prints the library\'s ranking as JSON, with paths as given to posapl-index', async () => {
    const out = json(run(SEARCH_BIN, ['idx', 'a river beside a road', '-k', '4', '--json']));
    const index = await RetrievalIndex.open(path.join(dir, 'idx'));
    const expected = await index.searchText('a river beside a road', 4);
    index.close();
    expect(out.query).toBe('a river beside a road');
    expect((out.results as { path: string }[]).map((r) => r.path)).toEqual(expected.map((r) => r.path));
    (out.results as { rank: number; path: string; score: number }[]).forEach((r, i) => {
      expect(r.rank).toBe(i + 1);
      expect(r.path).toMatch(/^photos\//);
      expect(r.score).toBeCloseTo(expected[i].score, 5);
    });
    const plain = run(SEARCH_BIN, ['idx', 'a river beside a road', '-k', '2']);
    expect(plain.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('searches by image and writes a self-contained HTML page of thumbnails', () => {
    const out = json(run(SEARCH_BIN, ['idx', '--image', 'photos/image_004.jpg', '-k', '3', '--json', '--html', 'results.html']));
    expect(out.query).toEqual({ image: 'photos/image_004.jpg' });
    const results = out.results as { path: string; score: number }[];
    expect(results[0].path).toBe('photos/image_004.jpg');
    expect(results[0].score).toBeCloseTo(1, 2);
    const html = fs.readFileSync(path.join(dir, 'results.html'), 'utf8');
    expect(html.match(/<img src='data:image\/jpeg;base64,/g)).toHaveLength(3);
    for (const r of results) expect(html).toContain(`data-path='${r.path}'`);
  });

  it('refuses a query from another model, naming both, and reports bad input clearly', () => {
    const other = run(SEARCH_BIN, ['idx', 'a river', '--config', 'config.json', '--tokenizer', 'byte-level', '--seed', '8']);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/another model[^]*index: .*seed 7[^]*given: .*seed 8/);
    const notIndex = run(SEARCH_BIN, ['photos', 'a river']);
    expect(notIndex.status).toBe(1);
    expect(notIndex.stderr).toMatch(/photos: not a retrieval index/);
    expect(run(SEARCH_BIN, ['idx']).status).toBe(2);
    expect(run(SEARCH_BIN, ['idx', 'a', 'river']).stderr).toMatch(/unexpected argument 'river'/);
    expect(run(SEARCH_BIN, ['idx', 'river', '-k', 'x']).status).toBe(2);
    const zero = run(SEARCH_BIN, ['idx', 'river', '-k', '0']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/--k must be a positive integer but received '0'/);
    const badImage = run(SEARCH_BIN, ['idx', '--image', 'config.json']);
    expect(badImage.status).toBe(1);
    expect(badImage.stderr).toMatch(/cannot read image config\.json/);
  });
});
