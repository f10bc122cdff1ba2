import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { gunzipSync, gzipSync } from 'zlib';
import { ClipTokenizer, cleanCaption } from '../../../src/text';
import { HuggingFaceFiles, OPEN_CLIP_VOCAB, rsitmdCaptions, writeHuggingFaceFiles } from './helpers';

// Expected ids come from tools/reference/gen_tokenizer_ids.py, checked there against open_clip 3.3.0.
const FIXTURES = path.resolve(__dirname, '../../fixtures');

interface Meta {
  context_length: number;
  vocab_sha256: string;
  files: { name: string; captions: number; sha256: string }[];
}
interface Case {
  text: string;
  context_length: number;
  ids: number[];
}

const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tokenizer_rsitmd.json'), 'utf8')) as Meta;
const cases = (JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tokenizer_cases.json'), 'utf8')) as { cases: Case[] }).cases;

/** Rows of the fixture stream: uint16 n, then n ids (SOT .. EOT), little-endian. */
function expectedRows(): number[][] {
  const bytes = gunzipSync(fs.readFileSync(path.join(FIXTURES, 'tokenizer_rsitmd_ids.bin.gz')));
  const rows: number[][] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = bytes.readUInt16LE(at);
    const row: number[] = [];
    for (let i = 0; i < n; i++) row.push(bytes.readUInt16LE(at + 2 + 2 * i));
    rows.push(row);
    at += 2 + 2 * n;
  }
  return rows;
}

/** The non-zero prefix of each row of an (n, contextLength) id matrix. */
function rowsOf(ids: Int32Array, contextLength: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < ids.length / contextLength; r++) {
    rows.push(Array.from(ids.subarray(r * contextLength, (r + 1) * contextLength)).filter((v) => v !== 0));
  }
  return rows;
}

function allCaptions(): string[] {
  return meta.files.flatMap((f) => {
    const captions = rsitmdCaptions(f.name);
    const digest = createHash('sha256');
    for (const c of captions) digest.update(c + '\n');
    if (captions.length !== f.captions || digest.digest('hex') !== f.sha256) {
      throw new Error(`../shared/data/rsitmd/${f.name} is not the file the tokenizer fixtures were made from`);
    }
    return captions;
  });
}

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await ClipTokenizer.fromFile(OPEN_CLIP_VOCAB());
});

describe('ClipTokenizer on open_clip vocabulary', () => {
  it('has CLIP special tokens and size', () => {
    expect(createHash('sha256').update(fs.readFileSync(OPEN_CLIP_VOCAB())).digest('hex')).toBe(meta.vocab_sha256);
    expect([tok.sotTokenId, tok.eotTokenId, tok.vocabSize]).toEqual([49406, 49407, 49408]);
  });

  it('equals open_clip on every RSITMD caption, raw and after cleanCaption', () => {
    const captions = allCaptions();
    const expected = expectedRows();
    expect(expected.length).toBe(2 * captions.length);
    const raw = rowsOf(tok.encode(captions, meta.context_length), meta.context_length);
    const cleaned = rowsOf(tok.encode(captions.map((c) => cleanCaption(c)), meta.context_length), meta.context_length);
    const mismatches: string[] = [];
    captions.forEach((caption, i) => {
      for (const [kind, got, want] of [['raw', raw[i], expected[2 * i]], ['clean', cleaned[i], expected[2 * i + 1]]] as const) {
        if (got.join() !== want.join() && mismatches.length < 5) {
          mismatches.push(`${kind} ${JSON.stringify(caption)}: ${got.join()} != ${want.join()}`);
        }
      }
    });
    expect(mismatches).toEqual([]);
    expect(captions.length).toBe(23715);
  });

  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('equals open_clip on %s', (_, c) => {
    const ids = tok.encode([c.text], c.context_length);
    expect(ids.length).toBe(c.context_length);
    expect(rowsOf(ids, c.context_length)[0]).toEqual(c.ids);
  });

  it('zero-pads, and cuts long text keeping EOT last', () => {
    const ids = tok.encode(['a river', 'tree '.repeat(100)], 77);
    expect(Array.from(ids.subarray(0, 5))).toEqual([49406, 320, 2473, 49407, 0]);
    expect(ids.subarray(4, 77).every((v) => v === 0)).toBe(true);
    expect(ids[77]).toBe(49406);
    expect(ids[77 + 76]).toBe(49407);
    expect(ids.subarray(78, 77 + 76).every((v) => v === 2677)).toBe(true);
    expect(Array.from(tok.encode(['a river'], 1))).toEqual([49407]);
    expect(tok.encode([], 77).length).toBe(0);
  });

  it('names the argument at fault', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      try {
        f();
      } catch (e) {
        expect((e as { code: string }).code).toBe('POSAPL_TYPE');
        expect((e as Error).message).toMatch(re);
        return;
      }
      throw new Error('no error thrown');
    };
    bad(() => tok.encode('a river' as unknown as string[]), /texts/);
    bad(() => tok.encode(['a', 3 as unknown as string]), /texts.*3 of type number/);
    bad(() => tok.encode(['a'], 0), /contextLength/);
    bad(() => tok.encode(['a'], 1.5), /contextLength/);
  });
});

describe('ClipTokenizer.byteLevel', () => {
  it('maps UTF-8 bytes to ids 0..511 with SOT 512, EOT 513', () => {
    const t = ClipTokenizer.byteLevel();
    expect([t.sotTokenId, t.eotTokenId, t.vocabSize]).toEqual([512, 513, 514]);
    // 'h' is the 72nd printable byte (index 71); 'i</w>' is 256 + 72; 'é' is C3 A9.
    expect(Array.from(t.encode(['Hi é'], 6))).toEqual([512, 71, 328, 127, 358, 513]);
  });
});

describe('ClipTokenizer on Hugging Face files', () => {
  let hf: HuggingFaceFiles;
  beforeAll(() => {
    hf = writeHuggingFaceFiles();
  });
  afterAll(() => fs.rmSync(hf.dir, { recursive: true, force: true }));

  it('tokenizer.json (both merge layouts) and vocab.json + merges.txt give the open_clip ids', async () => {
    const texts = [...rsitmdCaptions('val.json'), ...cases.map((c) => c.text)];
    const expected = tok.encode(texts);
    for (const file of [hf.tokenizerJson, hf.tokenizerJsonPairs, hf.folder]) {
      const other = await ClipTokenizer.fromFile(file);
      expect([other.sotTokenId, other.eotTokenId, other.vocabSize]).toEqual([49406, 49407, 49408]);
      expect(Buffer.from(other.encode(texts).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });

  it('reports a missing or corrupt vocabulary by its file name', async () => {
    const expectLoadError = async (file: string, code: string, message: RegExp) => {
      await expect(ClipTokenizer.fromFile(file)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    };
    const write = (name: string, data: string | Buffer) => {
      const file = path.join(hf.dir, name);
      fs.writeFileSync(file, data);
      return file;
    };
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const missing = path.join(hf.dir, 'nothing-here.txt.gz');
    await expectLoadError(missing, 'POSAPL_IO', new RegExp(esc(missing)));
    const garbage = write('garbage.bin', Buffer.from([0, 1, 2, 3, 255]));
    await expectLoadError(garbage, 'POSAPL_FORMAT', new RegExp(esc(garbage)));
    const gz = fs.readFileSync(OPEN_CLIP_VOCAB());
    const truncated = write('truncated.txt.gz', gz.subarray(0, gz.length >> 1));
    await expectLoadError(truncated, 'POSAPL_FORMAT', new RegExp(`${esc(truncated)}.*gzip`));
    const lines = gunzipSync(gz).toString('utf8').split('\n');
    lines[7] = 'three part line';
    const badLine = write('bad-line.txt.gz', gzipSync(lines.join('\n')));
    await expectLoadError(badLine, 'POSAPL_FORMAT', new RegExp(`${esc(badLine)}.*line 8`));
    const short = write('short.txt.gz', gzipSync(lines.slice(0, 1000).join('\n')));
    await expectLoadError(short, 'POSAPL_FORMAT', /999 merge lines, open_clip reads 48894/);
    const badJson = write('bad.json', '{"model": {"type": "BPE", "vocab": {"a": 0}, ');
    await expectLoadError(badJson, 'POSAPL_FORMAT', new RegExp(`${esc(badJson)}.*invalid JSON`));
    const noModel = write('no-model.json', '{"version": "1.0"}');
    await expectLoadError(noModel, 'POSAPL_FORMAT', new RegExp(`${esc(noModel)}.*no BPE model`));
    const tokenizer = JSON.parse(fs.readFileSync(hf.tokenizerJson, 'utf8'));
    delete tokenizer.model.vocab['th</w>'];
    const holey = write('holey.json', JSON.stringify(tokenizer));
    await expectLoadError(holey, 'POSAPL_FORMAT', new RegExp(`${esc(holey)}.*"th</w>", which has no id`));
    const folder = path.join(hf.dir, 'no-merges');
    fs.mkdirSync(folder);
    fs.copyFileSync(path.join(hf.folder, 'vocab.json'), path.join(folder, 'vocab.json'));
    await expectLoadError(folder, 'POSAPL_IO', new RegExp(esc(path.join(folder, 'merges.txt'))));
  });
});
