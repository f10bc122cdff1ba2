/** Finds which of the three vocabulary forms a path holds and reads it. */
import { promises as fs } from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { ClipVocabulary, corruptVocabulary } from './clipVocabulary';
import { parseTokenizerJson, parseVocabAndMerges } from './huggingFaceVocabulary';
import { parseOpenClipVocabulary } from './openClipVocabulary';

async function readFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (cause) {
    throw posaplError('POSAPL_IO', `ClipTokenizer: cannot read vocabulary file ${file}: ${(cause as Error).message}`, cause);
  }
}

/**
 * Reads a CLIP vocabulary from `file`: open_clip's `bpe_simple_vocab_16e6.txt.gz`, a Hugging Face
 * `tokenizer.json`, or a folder holding `vocab.json` and `merges.txt`. Errors name the file: code
 * POSAPL_IO when it cannot be read, POSAPL_FORMAT when it is not a CLIP vocabulary.
 */
export async function loadClipVocabulary(file: string): Promise<ClipVocabulary> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (cause) {
    throw posaplError('POSAPL_IO', `ClipTokenizer: cannot read vocabulary file ${file}: ${(cause as Error).message}`, cause);
  }
  if (stat.isDirectory()) {
    const vocabFile = path.join(file, 'vocab.json');
    const mergesFile = path.join(file, 'merges.txt');
    const [vocab, merges] = await Promise.all([readFile(vocabFile), readFile(mergesFile)]);
    return parseVocabAndMerges(vocab.toString('utf8'), merges.toString('utf8'), vocabFile, mergesFile);
  }
  const bytes = await readFile(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return parseOpenClipVocabulary(bytes, file);
  const text = bytes.toString('utf8');
  if (text.trimStart().startsWith('{')) return parseTokenizerJson(text, file);
  throw corruptVocabulary(file, "neither gzip'd open_clip merges nor a tokenizer.json");
}
