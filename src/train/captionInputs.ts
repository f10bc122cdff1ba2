/**
 * Captions and their POS words as model inputs: cleaned as the authors' pre_caption, POS words
 * joined by spaces (spec section 6), both tokenized to (n, context) ids.
 */
import { cleanCaption } from '../text/cleanCaption';
import { ClipTokenizer } from '../text/clipTokenizer';
import { tagPos } from '../text/tagPos';

/** POS words of a caption: from the dataset when it has them, else from the project's tagger. */
export function posWordsOf(caption: string, given: readonly string[] | undefined): readonly string[] {
  return given ?? tagPos(cleanCaption(caption));
}

/** ids and POS ids (n, context) for captions with their POS words. */
export function encodeCaptions(
  tokenizer: ClipTokenizer,
  captions: readonly string[],
  pos: readonly (readonly string[])[],
  context: number,
): { ids: Int32Array; posIds: Int32Array } {
  return {
    ids: tokenizer.encode(captions.map((c) => cleanCaption(c)), context),
    posIds: tokenizer.encode(pos.map((p) => p.join(' ')), context),
  };
}
