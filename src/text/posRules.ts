/**
 * Hand-written rules for where spaCy's universal tags systematically differ from a plain mapping
 * of Penn Treebank tags: be/have/do as auxiliary or verb, existential `there`, `to` before a verb,
 * `that` as determiner, pronoun or conjunction, determiners standing alone as pronouns, `nt`.
 */
import { PTB_TO_UNIVERSAL } from './posWords';

const BE = new Set(['is', 'are', 'was', 'were', 'be', 'been', 'being', 'am', 's', 're']);
const HAVE = new Set(['have', 'has', 'had', 've', 'having']);
const DO = new Set(['do', 'does', 'did']);
const DEMONSTRATIVES = new Set(['this', 'that', 'these', 'those']);
const QUANTIFIERS = new Set(['some', 'all', 'both', 'each', 'any', 'either', 'neither']);
const NOMINAL = new Set(['NOUN', 'PROPN', 'ADJ', 'NUM']);
const PAST_PARTICIPLE = new Set(['VBN', 'VBD']);

/**
 * Universal tags for `words` given wink's Penn Treebank tags `ptb` (one per word) and whether wink
 * saw the word as punctuation.
 */
export function universalTags(words: readonly string[], ptb: readonly string[], punctuation: readonly boolean[]): string[] {
  const n = words.length;
  const ud = ptb.map((tag, i) => (punctuation[i] ? 'PUNCT' : PTB_TO_UNIVERSAL[tag] ?? 'X'));
  for (let i = 0; i < n; i++) {
    const word = words[i];
    const next = i + 1 < n ? words[i + 1] : undefined;
    if (word === 'to') {
      ud[i] = ptb[i + 1] === 'VB' ? 'PART' : 'ADP';
    } else if (BE.has(word)) {
      // "there is/are": spaCy makes the verb of an existential sentence VERB, other be-forms AUX.
      ud[i] = words[i - 1] === 'there' ? 'VERB' : 'AUX';
    } else if (HAVE.has(word)) {
      let j = i + 1;
      while (j < n && ud[j] === 'ADV') j++;
      ud[i] = PAST_PARTICIPLE.has(ptb[j]) || words[j] === 'been' ? 'AUX' : 'VERB';
    } else if (DO.has(word)) {
      ud[i] = next === 'nt' || ptb[i + 1] === 'VB' ? 'AUX' : 'VERB';
    } else if (word === 'nt') {
      ud[i] = 'PART';
    } else if (word === 'that' && (ud[i + 1] === 'DET' || ud[i + 1] === 'PRON')) {
      ud[i] = 'SCONJ'; // "we can see that there is ..."
    } else if (DEMONSTRATIVES.has(word)) {
      ud[i] = NOMINAL.has(ud[i + 1]) ? 'DET' : 'PRON';
    } else if (word === 'there') {
      ud[i] = next === undefined ? 'ADV' : 'PRON'; // "... are there" vs existential "there are"
    } else if (QUANTIFIERS.has(word) && ud[i] === 'DET') {
      ud[i] = next === 'of' || next === undefined ? 'PRON' : 'DET'; // "some of the ..."
    }
  }
  return ud;
}
