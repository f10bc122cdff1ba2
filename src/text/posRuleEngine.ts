/**
 * Contextual tag-changing rules in the style of Brill's transformation-based tagger: each rule
 * changes the tag of a word to `to` when its template matches; rules apply in order, each one to
 * the whole caption at once. The rules themselves are learned from spaCy's tags of the RSITMD
 * validation captions by tools/pos/learn-pos-rules.js.
 */

/** Templates: what a rule looks at besides position i (w word, t tag, < previous, > next, $ last). */
export type RuleTemplate = 'w' | 'w>w' | 'w<w' | 'w>t' | 'w<t' | 'w$' | 't>t' | 't<t' | 't>w' | 't<w' | 't<t>t';

/** [new tag, template, first argument (word or tag at i), second argument, third argument]. */
export type LearnedRule = readonly [to: string, template: RuleTemplate, a: string, b?: string, c?: string];

/** Arguments each template takes after the new tag and the template. */
const TEMPLATE_ARGUMENTS: Readonly<Record<RuleTemplate, number>> = {
  'w': 1, 'w>w': 2, 'w<w': 2, 'w>t': 2, 'w<t': 2, 'w$': 1, 't>t': 2, 't<t': 2, 't>w': 2, 't<w': 2, 't<t>t': 3,
};

/** Whether `value` (e.g. read from a data file) has the shape of a {@link LearnedRule}. */
export function isLearnedRule(value: unknown): value is LearnedRule {
  if (!Array.isArray(value) || !value.every((part) => typeof part === 'string')) return false;
  const count = Object.prototype.hasOwnProperty.call(TEMPLATE_ARGUMENTS, value[1]) ? TEMPLATE_ARGUMENTS[value[1] as RuleTemplate] : -1;
  return count >= 0 && value.length === 2 + count;
}

/** Whether `rule` matches at position i of `words` with the current `tags`. */
export function ruleMatches(rule: LearnedRule, words: readonly string[], tags: readonly string[], i: number): boolean {
  const [, template, a, b, c] = rule;
  switch (template) {
    case 'w': return words[i] === a;
    case 'w>w': return words[i] === a && words[i + 1] === b;
    case 'w<w': return words[i] === a && words[i - 1] === b;
    case 'w>t': return words[i] === a && (tags[i + 1] ?? '$') === b;
    case 'w<t': return words[i] === a && (tags[i - 1] ?? '^') === b;
    case 'w$': return words[i] === a && i === words.length - 1;
    case 't>t': return tags[i] === a && (tags[i + 1] ?? '$') === b;
    case 't<t': return tags[i] === a && (tags[i - 1] ?? '^') === b;
    case 't>w': return tags[i] === a && words[i + 1] === b;
    case 't<w': return tags[i] === a && words[i - 1] === b;
    case 't<t>t': return tags[i] === a && (tags[i - 1] ?? '^') === b && (tags[i + 1] ?? '$') === c;
  }
}

/** Applies `rules` in order to `tags` (changed in place); matches are decided before a rule changes anything. */
export function applyLearnedRules(rules: readonly LearnedRule[], words: readonly string[], tags: string[]): string[] {
  const present = new Set(words);
  const hits: number[] = [];
  for (const rule of rules) {
    // Most rules are about one word: skip them at once when it is absent.
    if (rule[1][0] === 'w' && !present.has(rule[2])) continue;
    hits.length = 0;
    for (let i = 0; i < words.length; i++) {
      if (tags[i] !== rule[0] && ruleMatches(rule, words, tags, i)) hits.push(i);
    }
    for (const i of hits) tags[i] = rule[0];
  }
  return tags;
}
