/**
 * Whether the POS tagger can read a caption: it is an English tagger, so letters of other scripts
 * (Chinese, Cyrillic, Arabic, ...) get guessed tags. The commands count such captions and warn once.
 */

/** A letter outside the Latin script. */
const FOREIGN_LETTER = /(?![\p{Script=Latin}])\p{L}/u;

/** True when every letter of the caption is Latin (digits, punctuation and symbols are fine). */
export function isTaggableScript(caption: string): boolean {
  return !FOREIGN_LETTER.test(caption);
}
