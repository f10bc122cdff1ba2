/**
 * CLIP's tokenizer, id for id what open_clip's `tokenize()` (SimpleTokenizer, clean='lower') gives:
 * ftfy-style fixes, HTML unescaped twice, whitespace collapsed, lower case, split by open_clip's
 * pattern, each piece's UTF-8 bytes mapped to symbols and merged by rank.
 */
import { posaplError } from '../errors';
import { BYTE_CHARS, byteLevelVocabulary, ClipVocabulary, END_OF_TEXT, START_OF_TEXT } from './clipVocabulary';
import { fixText } from './fixText';
import { htmlUnescape } from './htmlUnescape';
import { loadClipVocabulary } from './loadVocabulary';
import { pySplit, pyStrip } from './pythonText';

/** The context length of every CLIP text tower. */
export const DEFAULT_CONTEXT_LENGTH = 77;

// open_clip: "<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
// with IGNORECASE; the `regex` module's \s is \p{White_Space}.
const PIECE = /<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

// Pieces seen before are looked up, as open_clip caches; the cache is emptied when it grows past this.
const CACHE_LIMIT = 200_000;

/** open_clip's text cleaning before splitting: basic_clean, whitespace_clean, lower(). */
export function clipClean(text: string): string {
  const unescaped = pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
  return pySplit(unescaped).join(' ').toLowerCase();
}

/** Tokenizes text into CLIP ids; build one with {@link ClipTokenizer.fromFile} or {@link ClipTokenizer.byteLevel}. */
export class ClipTokenizer {
  private readonly cache = new Map<string, readonly number[]>();

  /** Wraps a loaded vocabulary; see {@link ClipTokenizer.fromFile}. */
  constructor(readonly vocabulary: ClipVocabulary) {}

  /**
   * Loads open_clip's `bpe_simple_vocab_16e6.txt.gz`, a Hugging Face `tokenizer.json`, or a folder
   * with `vocab.json` + `merges.txt`; all three give the same ids. A missing or corrupt file throws
   * an error naming it (code POSAPL_IO or POSAPL_FORMAT).
   */
  static async fromFile(file: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadClipVocabulary(file));
  }

  /** The tokenizer with no merges (ids 0..513, SOT 512, EOT 513), for small models without a vocabulary file. */
  static byteLevel(): ClipTokenizer {
    return new ClipTokenizer(byteLevelVocabulary());
  }

  /** Id of the start-of-text token. */
  get sotTokenId(): number {
    return this.vocabulary.sotTokenId;
  }

  /** Id of the end-of-text token. */
  get eotTokenId(): number {
    return this.vocabulary.eotTokenId;
  }

  /** Number of ids: the token embedding table needs this many rows. */
  get vocabSize(): number {
    return this.vocabulary.size;
  }

  /** The ids of `text` without start and end of text (open_clip's `SimpleTokenizer.encode`). */
  encodeText(text: string): number[] {
    const ids: number[] = [];
    for (const [piece] of clipClean(text).matchAll(PIECE)) {
      for (const id of this.pieceIds(piece)) ids.push(id);
    }
    return ids;
  }

  /**
   * open_clip's `tokenize(texts, contextLength)`: row i holds SOT, the ids of `texts[i]`, EOT, then
   * zeros; a row that does not fit is cut and ends with EOT. Returns (texts.length, contextLength).
   */
  encode(texts: readonly string[], contextLength = DEFAULT_CONTEXT_LENGTH): Int32Array {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
      throw posaplError('POSAPL_TYPE', `Expected an array of strings for texts but received ${describe(texts)}`);
    }
    if (!Number.isInteger(contextLength) || contextLength < 1) {
      throw posaplError('POSAPL_TYPE', `Expected a positive integer for contextLength but received ${describe(contextLength)}`);
    }
    const out = new Int32Array(texts.length * contextLength); // (N, contextLength)
    texts.forEach((text, row) => {
      const ids = this.encodeText(text);
      const base = row * contextLength;
      out[base] = this.sotTokenId;
      const kept = Math.min(ids.length, contextLength - 2);
      for (let i = 0; i < kept; i += 1) out[base + 1 + i] = ids[i];
      // Python: (tokens[:contextLength])[-1] = EOT, so a context of 1 holds EOT alone.
      out[base + Math.min(kept + 1, contextLength - 1)] = this.eotTokenId;
    });
    return out;
  }

  private pieceIds(piece: string): readonly number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let ids: number[];
    if (piece === START_OF_TEXT) ids = [this.sotTokenId];
    else if (piece === END_OF_TEXT) ids = [this.eotTokenId];
    else ids = this.bpe(piece);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  /** Byte-maps `piece`, then merges the lowest-ranked adjacent pair until none is ranked. */
  private bpe(piece: string): number[] {
    const bytes = Buffer.from(piece, 'utf8');
    let word: string[] = Array.from(bytes, (b) => BYTE_CHARS[b]);
    word[word.length - 1] += '</w>';
    const ranks = this.vocabulary.mergeRanks;
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i += 1) {
        const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best];
      const second = word[best + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    const encoder = this.vocabulary.encoder;
    return word.map((token) => encoder.get(token) as number);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (Array.isArray(value)) return `an array holding ${describe(value.find((v) => typeof v !== 'string'))}`;
  return value === null ? 'null' : `${String(value)} of type ${typeof value}`;
}
