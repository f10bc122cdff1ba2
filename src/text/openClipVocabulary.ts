/** Reads open_clip's own vocabulary file, `bpe_simple_vocab_16e6.txt.gz` (a header line, then merges). */
import { gunzipSync } from 'zlib';
import { ClipVocabulary, CLIP_MERGE_COUNT, corruptVocabulary, vocabularyFromMerges } from './clipVocabulary';
import { pySplit } from './pythonText';

/** Parses the gzip'd merges file as open_clip does: lines 1..48894, each `left right`. */
export function parseOpenClipVocabulary(gzipped: Uint8Array, source: string): ClipVocabulary {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(gunzipSync(gzipped));
  } catch (cause) {
    throw corruptVocabulary(source, `not gzip'd UTF-8 text (${(cause as Error).message})`);
  }
  const lines = text.split('\n');
  if (lines.length <= CLIP_MERGE_COUNT) {
    throw corruptVocabulary(source, `${Math.max(lines.length - 1, 0)} merge lines, open_clip reads ${CLIP_MERGE_COUNT}`);
  }
  const merges = lines.slice(1, CLIP_MERGE_COUNT + 1).map((line, index): [string, string] => {
    const parts = pySplit(line);
    if (parts.length !== 2) {
      throw corruptVocabulary(source, `line ${index + 2} is not a merge "left right": ${JSON.stringify(line)}`);
    }
    return [parts[0], parts[1]];
  });
  return vocabularyFromMerges(merges, source);
}
