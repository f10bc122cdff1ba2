/**
 * POS words for a cleaned caption, made to agree with what the authors got from spaCy's
 * `en_core_web_sm`: spaCy's word split, wink-pos-tagger's Penn Treebank tags, hand-written rules
 * for spaCy's systematic choices, then rules learned from spaCy's tags of RSITMD validation captions.
 */
import type { WinkTagger } from 'wink-pos-tagger';
import { LEARNED_RULES } from './posLearnedRules';
import { applyLearnedRules } from './posRuleEngine';
import { universalTags } from './posRules';
import { POS_WORDS, PosWord } from './posWords';
import { spacyWords } from './spacyWords';

let wink: WinkTagger | undefined;

/** wink-pos-tagger, loaded on first use: its lexicons take a fifth of a second to load. */
function winkTagger(): WinkTagger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wink ??= (require('wink-pos-tagger') as () => WinkTagger)();
  return wink;
}

/** POS words of pre-split `words` before the learned rules (what tools/pos/learn-pos-rules.js starts from). */
export function baseTags(words: readonly string[]): PosWord[] {
  if (words.length === 0) return [];
  const tokens = winkTagger().tagRawTokens([...words]);
  const ud = universalTags(words, tokens.map((t) => t.pos), tokens.map((t) => t.tag === 'punctuation'));
  return ud.map((tag) => POS_WORDS[tag]);
}

/**
 * The POS words of a caption cleaned by {@link cleanCaption}, one per spaCy token (so `theres`
 * gives two). An empty caption gives an empty list.
 */
export function tagPos(cleanedCaption: string): PosWord[] {
  const words = spacyWords(cleanedCaption);
  return applyLearnedRules(LEARNED_RULES, words, baseTags(words)) as PosWord[];
}
