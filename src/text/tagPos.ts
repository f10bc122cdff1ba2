/**
 * POS words for a cleaned caption, made to agree with what the authors got from spaCy's
 * `en_core_web_sm`: spaCy's word split, wink-pos-tagger's Penn Treebank tags, hand-written rules
 * for spaCy's systematic choices, then rules learned from spaCy's tags of RSITMD validation captions.
 */
import type { WinkTagger } from 'wink-pos-tagger';
import { readPackageData } from './packageData';
import { applyLearnedRules, isLearnedRule, LearnedRule } from './posRuleEngine';
import { universalTags } from './posRules';
import { POS_WORDS, PosWord } from './posWords';
import { spacyWords } from './spacyWords';

let wink: WinkTagger | undefined;
let learnedRules: readonly LearnedRule[] | undefined;

/** data/text/pos-learned-rules.json (written by tools/pos/learn-pos-rules.js), read on first use. */
function rulesLearnedFromSpacy(): readonly LearnedRule[] {
  learnedRules ??= readPackageData<{ rules: LearnedRule[] }>('text/pos-learned-rules.json', (t) => {
    if (!Array.isArray(t.rules)) return 'Expected an array for rules';
    const bad = t.rules.findIndex((rule) => !isLearnedRule(rule));
    return bad < 0 ? null : `rules[${bad}] is not a rule: ${JSON.stringify(t.rules[bad])}`;
  }).rules;
  return learnedRules;
}

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
  return applyLearnedRules(rulesLearnedFromSpacy(), words, baseTags(words)) as PosWord[];
}
