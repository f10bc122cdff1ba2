/**
 * Reads the Hugging Face forms of CLIP's vocabulary (e.g. `laion/CLIP-ViT-B-32-laion2B-s34B-b79K`):
 * a `tokenizer.json` whose model is BPE, or `vocab.json` (token -> id) with `merges.txt`.
 * Only the vocabulary and merges are used; text is cleaned and split as open_clip does.
 */
import { checkedVocabulary, ClipVocabulary, corruptVocabulary, rankMerges } from './clipVocabulary';

/** Hugging Face's names for CLIP's special tokens. */
const HF_START = '<|startoftext|>';
const HF_END = '<|endoftext|>';

type Merge = readonly [string, string];

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw corruptVocabulary(source, `invalid JSON (${(cause as Error).message})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encoderFrom(vocab: unknown, source: string): Map<string, number> {
  if (!isRecord(vocab)) throw corruptVocabulary(source, 'the vocabulary is not an object of token -> id');
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw corruptVocabulary(source, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`);
    }
    encoder.set(token, id as number);
  }
  return encoder;
}

function mergeFrom(entry: unknown, where: string, source: string): Merge {
  const parts = typeof entry === 'string' ? entry.split(' ') : entry;
  if (!Array.isArray(parts) || parts.length !== 2 || parts.some((p) => typeof p !== 'string' || p === '')) {
    throw corruptVocabulary(source, `${where} is not a merge "left right": ${JSON.stringify(entry)}`);
  }
  return [parts[0] as string, parts[1] as string];
}

function assemble(encoder: Map<string, number>, merges: Merge[], source: string): ClipVocabulary {
  const sot = encoder.get(HF_START);
  const eot = encoder.get(HF_END);
  if (sot === undefined || eot === undefined) {
    throw corruptVocabulary(source, `no ids for ${HF_START} and ${HF_END}`);
  }
  let size = 0;
  for (const id of encoder.values()) size = Math.max(size, id + 1);
  return checkedVocabulary({ encoder, mergeRanks: rankMerges(merges), sotTokenId: sot, eotTokenId: eot, size, source });
}

/** Parses a Hugging Face `tokenizer.json` (model type BPE, merges as strings or pairs). */
export function parseTokenizerJson(text: string, source: string): ClipVocabulary {
  const json = parseJson(text, source);
  const model = isRecord(json) ? json.model : undefined;
  if (!isRecord(model) || (model.type !== undefined && model.type !== 'BPE') || !Array.isArray(model.merges)) {
    throw corruptVocabulary(source, 'no BPE model with vocab and merges');
  }
  const encoder = encoderFrom(model.vocab, source);
  const added = isRecord(json) && Array.isArray(json.added_tokens) ? json.added_tokens : [];
  for (const token of added) {
    if (isRecord(token) && typeof token.content === 'string' && Number.isInteger(token.id) && !encoder.has(token.content)) {
      encoder.set(token.content, token.id as number);
    }
  }
  const merges = model.merges.map((entry, index) => mergeFrom(entry, `merges[${index}]`, source));
  return assemble(encoder, merges, source);
}

/** Parses `vocab.json` and `merges.txt` (an optional `#version` line, then `left right` lines). */
export function parseVocabAndMerges(vocabJson: string, mergesTxt: string, vocabSource: string, mergesSource: string): ClipVocabulary {
  const encoder = encoderFrom(parseJson(vocabJson, vocabSource), vocabSource);
  const merges: Merge[] = [];
  mergesTxt.split(/\r?\n/).forEach((line, index) => {
    if (line === '' || (index === 0 && line.startsWith('#version'))) return;
    merges.push(mergeFrom(line, `line ${index + 1}`, mergesSource));
  });
  return assemble(encoder, merges, `${vocabSource} + ${mergesSource}`);
}
