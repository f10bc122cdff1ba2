/**
 * RetrievalIndex on real image files with a tiny model: embeddings equal the model's own,
 * ranking equals brute force, incremental updates, resume after an interrupted build, the
 * writer's lock, and refusal of another model.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeImage } from '../../../src/data/decode';
import { testTransform } from '../../../src/data/transforms';
import { loadRetrievalModel, RetrievalModel } from '../../../src/search/modelRecord';
import { encodeTextQuery } from '../../../src/search/queryEncoding';
import { RetrievalIndex } from '../../../src/search/retrievalIndex';
import { tinySource, writeImage, writeImages } from '../../helpers/searchFixtures';

let dir: string;
let model: RetrievalModel;
let images: string[];
const at = (...p: string[]) => path.join(dir, ...p);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-index-'));
  images = await writeImages(at('images'), 12);
  model = await loadRetrievalModel(tinySource());
});

afterAll(() => {
  model.model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function modelEmbedding(file: string): Promise<Float32Array> {
  const size = model.model.config.vision_cfg.image_size;
  return model.model.encodeImages(testTransform(await decodeImage(file), size), 1);
}

describe('RetrievalIndex', () => {
  it('indexes a folder: each row is the model\'s embedding of its file (float16 storage)', async () => {
    const index = await RetrievalIndex.create(at('idx'), model);
    const report = await index.add(at('images'), { workers: 1, batchSize: 5 });
    expect(report).toEqual({ added: 12, updated: 0, unchanged: 0, removed: 0, skipped: [], interrupted: false });
    const reopened = await RetrievalIndex.open(at('idx'));
    expect(reopened.entries.map((e) => e.abs)).toEqual([...images].sort());
    for (const [row, entry] of reopened.entries.entries()) {
      const expected = await modelEmbedding(entry.abs);
      const got = reopened.embeddings.subarray(row * 16, (row + 1) * 16);
      for (let j = 0; j < 16; j++) expect(Math.abs(got[j] - expected[j])).toBeLessThan(2e-3);
    }
    expect(fs.readdirSync(at('idx')).sort()).toEqual(['embeddings-2.safetensors', 'files-2.json', 'index.json']);
  });

  it('ranks a text query as brute force over the model\'s own embeddings', async () => {
    const index = await RetrievalIndex.open(at('idx'), { model });
    const query = 'many green trees are around a square';
    const results = await index.searchText(query, 5);
    const q = encodeTextQuery(model.model, model.tokenizer, query);
    const reference = index.entries.map((e, row) => {
      let s = 0;
      for (let j = 0; j < 16; j++) s += index.embeddings[row * 16 + j] * q[j];
      return { path: e.path, score: s };
    }).sort((a, b) => b.score - a.score).slice(0, 5);
    expect(results.map((r) => r.path)).toEqual(reference.map((r) => r.path));
    expect(results.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    results.forEach((r, i) => expect(r.score).toBeCloseTo(reference[i].score, 5));
    // An image query finds itself first, with cosine 1, the same through its path, its pixels or its row.
    const byFile = await index.searchImage(images[4], 3);
    expect(byFile[0]).toEqual({ rank: 1, path: images[4], score: expect.closeTo(1, 3) });
    const pixels = testTransform(await decodeImage(images[4]), 32);
    expect((await index.searchImage(pixels, 3)).map((r) => r.path)).toEqual(byFile.map((r) => r.path));
    expect(index.searchSimilar(images[4], 3).map((r) => r.path)).toEqual(byFile.map((r) => r.path));
  });

  it('re-encodes only changed files, drops deleted ones and skips unreadable ones', async () => {
    const index = await RetrievalIndex.open(at('idx'));
    fs.rmSync(images[0]);
    await writeImage(images[1], 99); // new content
    const touched = new Date(Date.now() + 5000);
    fs.utimesSync(images[2], touched, touched); // same content, new mtime
    await writeImages(at('images'), 2, 12);
    fs.writeFileSync(at('images', 'broken.png'), 'not an image');
    const report = await index.add(at('images'), { workers: 1 });
    expect(report).toEqual({ added: 2, updated: 1, unchanged: 10, removed: 1, skipped: [at('images', 'broken.png')], interrupted: false });
    expect(index.size).toBe(13);
    const row = index.entries.findIndex((e) => e.abs === images[1]);
    const expected = await modelEmbedding(images[1]);
    for (let j = 0; j < 16; j++) expect(Math.abs(index.embeddings[row * 16 + j] - expected[j])).toBeLessThan(2e-3);
    await expect(index.add(at('images'), { strict: true })).rejects.toMatchObject({ code: 'POSAPL_IMAGE', message: expect.stringContaining('broken.png') });
    fs.rmSync(at('images', 'broken.png'));
    expect(await index.remove([images[3], at('nowhere.png')])).toBe(1);
    expect((await RetrievalIndex.open(at('idx'))).size).toBe(12);
  });

  it('resumes an interrupted build where its last commit stopped', async () => {
    const files = await writeImages(at('many'), 40, 100);
    const index = await RetrievalIndex.create(at('resumed'), model);
    const stop = new AbortController();
    const first = await index.add(at('many'), {
      batchSize: 8, workers: 1, commitIntervalMs: 0, signal: stop.signal,
      onProgress: (p) => { if (p.done >= 16) stop.abort(); },
    });
    expect(first.interrupted).toBe(true);
    expect(first.added).toBe(16);
    expect((await RetrievalIndex.open(at('resumed'))).size).toBe(16);
    const second = await (await RetrievalIndex.open(at('resumed'))).add(at('many'), { workers: 1 });
    expect(second).toMatchObject({ added: 24, unchanged: 16, interrupted: false });
    const full = await RetrievalIndex.open(at('resumed'));
    expect(full.entries.map((e) => e.abs).sort()).toEqual([...files].sort());
  });

  it('lets one writer at a time, and takes over the lock of a dead one', async () => {
    const index = await RetrievalIndex.open(at('idx'));
    fs.writeFileSync(at('idx', 'lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'now' }));
    await expect(index.add(at('images'))).rejects.toMatchObject({ code: 'POSAPL_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) });
    // A pid that cannot be alive (above pid_max).
    fs.writeFileSync(at('idx', 'lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), since: 'then' }));
    fs.writeFileSync(at('idx', '.index.json.1.abc.tmp'), 'left by a crash');
    await expect(index.add(at('images'))).resolves.toMatchObject({ unchanged: 12 });
    expect(fs.existsSync(at('idx', 'lock'))).toBe(false);
    expect(fs.existsSync(at('idx', '.index.json.1.abc.tmp'))).toBe(false);
  });

  it('refuses another model, naming both, and refuses to create over an index or a used folder', async () => {
    const other = await loadRetrievalModel(tinySource(8));
    try {
      await expect(RetrievalIndex.open(at('idx'), { model: other })).rejects.toMatchObject({
        code: 'POSAPL_MODEL_MISMATCH', message: expect.stringMatching(/index: .*seed 7[^]*given: .*seed 8/),
      });
    } finally {
      other.model.dispose();
    }
    await expect(RetrievalIndex.create(at('idx'), model)).rejects.toMatchObject({ code: 'POSAPL_EXISTS' });
    await expect(RetrievalIndex.create(at('images'), model)).rejects.toMatchObject({ code: 'POSAPL_EXISTS' });
    await expect(RetrievalIndex.open(at('images'))).rejects.toMatchObject({ code: 'POSAPL_NOT_AN_INDEX' });
  });
});
