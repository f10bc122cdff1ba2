/**
 * The vocabulary of CLIP's byte-level BPE: token strings (bytes mapped to printable characters,
 * `</w>` closing a word) with their ids, the ranked merges, and the two special tokens.
 */
import { posaplError } from '../errors';

/** A loaded CLIP BPE vocabulary, whichever file it came from. */
export interface ClipVocabulary {
  /** Token string -> id. */
  readonly encoder: ReadonlyMap<string, number>;
  /** `"left right"` -> merge rank (lower merges first). */
  readonly mergeRanks: ReadonlyMap<string, number>;
  /** Id of the start-of-text token (49406 in CLIP's vocabulary). */
  readonly sotTokenId: number;
  /** Id of the end-of-text token (49407 in CLIP's vocabulary). */
  readonly eotTokenId: number;
  /** Number of ids (49408 in CLIP's vocabulary). */
  readonly size: number;
  /** Where it was read from, for messages. */
  readonly source: string;
}

/** open_clip's name for the start-of-text token; text containing it encodes to its id. */
export const START_OF_TEXT = '<start_of_text>';
/** open_clip's name for the end-of-text token; text containing it encodes to its id. */
export const END_OF_TEXT = '<end_of_text>';

/**
 * GPT-2's reversible map from UTF-8 bytes to printable characters (`BYTE_CHARS[b]`), and the
 * order in which CLIP's vocabulary lists them: printable bytes first, then the others.
 */
export const { BYTE_CHARS, BYTE_ORDER } = (() => {
  const printable: number[] = [];
  for (const [lo, hi] of [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]]) {
    for (let b = lo; b <= hi; b += 1) printable.push(b);
  }
  const chars: string[] = new Array<string>(256);
  for (const b of printable) chars[b] = String.fromCharCode(b);
  const order = [...printable];
  let extra = 0;
  for (let b = 0; b < 256; b += 1) {
    if (chars[b] !== undefined) continue;
    chars[b] = String.fromCharCode(256 + extra);
    extra += 1;
    order.push(b);
  }
  return { BYTE_CHARS: chars as readonly string[], BYTE_ORDER: order as readonly number[] };
})();

/** Number of merges open_clip reads from its vocabulary file (lines 1..48894). */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;

/** A vocabulary error that names the file: code POSAPL_FORMAT. */
export function corruptVocabulary(source: string, what: string): Error {
  return posaplError('POSAPL_FORMAT', `ClipTokenizer: ${source} is not a usable CLIP vocabulary: ${what}`);
}

/**
 * Builds a vocabulary the way open_clip's SimpleTokenizer does from its merges: the 256 byte
 * symbols, the same with `</w>`, one token per merge, then start and end of text.
 */
export function vocabularyFromMerges(merges: readonly (readonly [string, string])[], source: string): ClipVocabulary {
  const tokens = BYTE_ORDER.map((b) => BYTE_CHARS[b]);
  for (const b of BYTE_ORDER) tokens.push(BYTE_CHARS[b] + '</w>');
  for (const [left, right] of merges) tokens.push(left + right);
  tokens.push(START_OF_TEXT, END_OF_TEXT);
  // A later duplicate wins, as in Python's dict(zip(vocab, range(...))).
  const encoder = new Map<string, number>();
  tokens.forEach((token, id) => encoder.set(token, id));
  return checkedVocabulary({
    encoder,
    mergeRanks: rankMerges(merges),
    sotTokenId: tokens.length - 2,
    eotTokenId: tokens.length - 1,
    size: tokens.length,
    source,
  });
}

/** `"left right"` -> rank; a repeated pair keeps its last rank, as in open_clip's dict. */
export function rankMerges(merges: readonly (readonly [string, string])[]): Map<string, number> {
  const ranks = new Map<string, number>();
  merges.forEach(([left, right], rank) => ranks.set(`${left} ${right}`, rank));
  return ranks;
}

/**
 * Checks what encoding relies on: every byte symbol (with and without `</w>`) and every merge
 * result has an id, and the special tokens are distinct.
 */
export function checkedVocabulary(vocab: ClipVocabulary): ClipVocabulary {
  for (const char of BYTE_CHARS) {
    if (!vocab.encoder.has(char) || !vocab.encoder.has(char + '</w>')) {
      throw corruptVocabulary(vocab.source, `byte symbol ${JSON.stringify(char)} has no id`);
    }
  }
  for (const pair of vocab.mergeRanks.keys()) {
    const merged = pair.replace(' ', '');
    if (!vocab.encoder.has(merged)) {
      throw corruptVocabulary(vocab.source, `merge "${pair}" yields ${JSON.stringify(merged)}, which has no id`);
    }
  }
  if (vocab.sotTokenId === vocab.eotTokenId) {
    throw corruptVocabulary(vocab.source, 'start and end of text share one id');
  }
  return vocab;
}

/** The vocabulary with no merges: 256 byte symbols, the same with `</w>`, then SOT 512 and EOT 513. */
export function byteLevelVocabulary(): ClipVocabulary {
  return vocabularyFromMerges([], 'byte-level vocabulary (no merges)');
}
