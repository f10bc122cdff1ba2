/** A damaged index (files truncated, bits flipped, removed) is refused with a coded error, never a crash or an uncoded one. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadRetrievalModel } from '../../../src/search/modelRecord';
import { RetrievalIndex } from '../../../src/search/retrievalIndex';
import { tinySource, writeImages } from '../../helpers/searchFixtures';

let dir: string;
const pristine = new Map<string, Buffer>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-index-fuzz-'));
  await writeImages(path.join(dir, 'images'), 6);
  const model = await loadRetrievalModel(tinySource());
  const index = await RetrievalIndex.create(path.join(dir, 'idx'), model);
  await index.add(path.join(dir, 'images'), { workers: 1 });
  model.model.dispose();
  for (const name of fs.readdirSync(path.join(dir, 'idx'))) pristine.set(name, fs.readFileSync(path.join(dir, 'idx', name)));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function restore(): void {
  for (const [name, bytes] of pristine) fs.writeFileSync(path.join(dir, 'idx', name), bytes);
}

/** Opens the index: either it opens with 6 rows of finite, unit-length embeddings, or it throws a POSAPL_ error naming a file. */
async function openOrCodedError(): Promise<'opened' | string> {
  try {
    const index = await RetrievalIndex.open(path.join(dir, 'idx'));
    expect(index.size).toBe(6);
    for (let r = 0; r < 6; r++) {
      let sum = 0;
      for (let j = 0; j < index.dim; j++) sum += index.embeddings[r * index.dim + j] ** 2;
      if (sum > 0) expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
    return 'opened';
  } catch (e) {
    const error = e as { code?: string; message?: string };
    if (typeof error.code !== 'string' || !error.code.startsWith('POSAPL_')) throw e;
    expect(error.message).toMatch(/idx/);
    return error.code;
  }
}

describe('damaged index files', () => {
  afterEach(restore);

  it.each([...['index.json', 'files-2.json', 'embeddings-2.safetensors']])('%s truncated at every length class is refused', async (name) => {
    const bytes = pristine.get(name)!;
    // (The JSON files end in a newline, which a reader does not need.)
    const cuts = [0, 1, 7, 8, 9, 40, bytes.length >> 1, bytes.length - 9, bytes.length - 2];
    for (const cut of cuts) {
      fs.writeFileSync(path.join(dir, 'idx', name), bytes.subarray(0, cut));
      const outcome = await openOrCodedError();
      expect(outcome).not.toBe('opened');
    }
  });

  it.each(['files-2.json', 'embeddings-2.safetensors'])('%s with any bit flipped is refused (CRC-32)', async (name) => {
    const bytes = pristine.get(name)!;
    for (let trial = 0; trial < 40; trial++) {
      const flipped = Buffer.from(bytes);
      flipped[(trial * 7919) % flipped.length] ^= 1 << (trial % 8);
      fs.writeFileSync(path.join(dir, 'idx', name), flipped);
      expect(await openOrCodedError()).toBe('POSAPL_INDEX');
    }
  });

  it.each(['index.json', 'files-2.json', 'embeddings-2.safetensors'])('%s with random bits flipped opens correctly or is refused with a code', async (name) => {
    const bytes = pristine.get(name)!;
    let state = 12345;
    const codes = new Set<string>();
    for (let trial = 0; trial < 60; trial++) {
      state = (state * 1103515245 + 12345) >>> 0;
      const flipped = Buffer.from(bytes);
      const at = state % flipped.length;
      flipped[at] ^= 1 << (state >>> 29);
      fs.writeFileSync(path.join(dir, 'idx', name), flipped);
      codes.add(await openOrCodedError());
    }
    expect([...codes].every((c) => c === 'opened' || c.startsWith('POSAPL_'))).toBe(true);
  });

  it('a missing data file is refused naming it', async () => {
    fs.rmSync(path.join(dir, 'idx', 'files-2.json'));
    await expect(RetrievalIndex.open(path.join(dir, 'idx'))).rejects.toMatchObject({ code: 'POSAPL_NOT_FOUND', message: expect.stringContaining('files-2.json') });
  });
});
