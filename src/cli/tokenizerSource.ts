/**
 * Where the commands find the CLIP tokenizer: --tokenizer (a file, a folder, or 'byte-level', the
 * demo's tokenizer without merges), else beside --weights (where the Hugging Face download of
 * laion/CLIP-ViT-B-32-laion2B-s34B-b79K puts it), else POSAPL_TOKENIZER.
 */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { ClipTokenizer } from '../text/clipTokenizer';

const BESIDE_WEIGHTS = ['tokenizer.json', 'bpe_simple_vocab_16e6.txt.gz'];

/** The --tokenizer value of {@link ClipTokenizer.byteLevel}. */
export const BYTE_LEVEL = 'byte-level';

/** The tokenizer file or folder to load, or throws saying how to provide one. */
export function findTokenizer(explicit: string | undefined, weights: string | undefined, env = process.env): string {
  if (explicit) {
    if (explicit === BYTE_LEVEL) return explicit;
    if (!fs.existsSync(explicit)) throw posaplError('POSAPL_IO', `--tokenizer ${explicit}: no such file or folder`);
    return explicit;
  }
  if (weights) {
    const dir = path.dirname(path.resolve(weights));
    for (const name of BESIDE_WEIGHTS) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
    if (fs.existsSync(path.join(dir, 'vocab.json')) && fs.existsSync(path.join(dir, 'merges.txt'))) return dir;
  }
  if (env.POSAPL_TOKENIZER) {
    if (!fs.existsSync(env.POSAPL_TOKENIZER)) throw posaplError('POSAPL_IO', `POSAPL_TOKENIZER=${env.POSAPL_TOKENIZER}: no such file or folder`);
    return env.POSAPL_TOKENIZER;
  }
  throw posaplError(
    'POSAPL_USAGE',
    'no CLIP tokenizer found: pass --tokenizer PATH (open_clip\'s bpe_simple_vocab_16e6.txt.gz, a tokenizer.json, ' +
      'or a folder with vocab.json and merges.txt), put one of those beside --weights (the Hugging Face download of ' +
      'laion/CLIP-ViT-B-32-laion2B-s34B-b79K has them), or set POSAPL_TOKENIZER',
  );
}

export async function loadTokenizer(explicit: string | undefined, weights: string | undefined): Promise<ClipTokenizer> {
  const source = findTokenizer(explicit, weights);
  return source === BYTE_LEVEL ? ClipTokenizer.byteLevel() : ClipTokenizer.fromFile(source);
}
