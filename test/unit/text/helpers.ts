/** Helpers for the text tests: the shared data beside the repository, and Hugging Face vocabulary files. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';

/** `../shared` beside the repository root (CI clones the repository with shared/ next to it). */
export const SHARED_DIR = path.resolve(__dirname, '../../../../shared');

/** A file under ../shared; throws a clear error when the shared folder is not there. */
export function sharedFile(...parts: string[]): string {
  const file = path.join(SHARED_DIR, ...parts);
  if (!fs.existsSync(file)) {
    throw new Error(`the text tests read ${file}: the shared data folder must sit beside the repository as ../shared`);
  }
  return file;
}

export const OPEN_CLIP_VOCAB = (): string => sharedFile('vocab', 'bpe_simple_vocab_16e6.txt.gz');

/** Captions of an RSITMD file in order, list captions flattened. */
export function rsitmdCaptions(name: string): string[] {
  const entries = JSON.parse(fs.readFileSync(sharedFile('data', 'rsitmd', name), 'utf8')) as { caption: string | string[] }[];
  return entries.flatMap((e) => (Array.isArray(e.caption) ? e.caption : [e.caption]));
}

/** GPT-2's byte -> symbol table in vocabulary order, written independently of src/text. */
function byteSymbols(): string[] {
  const printable: number[] = [];
  for (let b = 0; b < 256; b++) if ((b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae) printable.push(b);
  const symbols = printable.map((b) => String.fromCharCode(b));
  let extra = 0;
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) symbols.push(String.fromCharCode(256 + extra++));
  return symbols;
}

export interface HuggingFaceFiles {
  dir: string;
  tokenizerJson: string;
  tokenizerJsonPairs: string;
  folder: string;
}

/**
 * Converts open_clip's vocabulary file into the Hugging Face layout of CLIP tokenizers: a folder
 * with vocab.json + merges.txt, and tokenizer.json (merges as "a b" strings, and as [a, b] pairs).
 */
export function writeHuggingFaceFiles(): HuggingFaceFiles {
  const lines = gunzipSync(fs.readFileSync(OPEN_CLIP_VOCAB())).toString('utf8').split('\n');
  const merges = lines.slice(1, 49152 - 256 - 2 + 1).map((l) => l.split(' '));
  const symbols = byteSymbols();
  const tokens = [...symbols, ...symbols.map((s) => s + '</w>'), ...merges.map((m) => m.join('')), '<|startoftext|>', '<|endoftext|>'];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-hf-'));
  const folder = path.join(dir, 'clip');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, 'vocab.json'), JSON.stringify(vocab));
  fs.writeFileSync(path.join(folder, 'merges.txt'), '#version: 0.2\n' + merges.map((m) => m.join(' ')).join('\n') + '\n');
  const tokenizer = (mergeList: unknown[]) => ({
    version: '1.0',
    added_tokens: [
      { id: 49406, content: '<|startoftext|>', special: true },
      { id: 49407, content: '<|endoftext|>', special: true },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
    model: { type: 'BPE', dropout: null, unk_token: '<|endoftext|>', end_of_word_suffix: '</w>', vocab, merges: mergeList },
  });
  const tokenizerJson = path.join(dir, 'tokenizer.json');
  fs.writeFileSync(tokenizerJson, JSON.stringify(tokenizer(merges.map((m) => m.join(' ')))));
  const tokenizerJsonPairs = path.join(dir, 'tokenizer-pairs.json');
  fs.writeFileSync(tokenizerJsonPairs, JSON.stringify(tokenizer(merges)));
  return { dir, tokenizerJson, tokenizerJsonPairs, folder };
}
