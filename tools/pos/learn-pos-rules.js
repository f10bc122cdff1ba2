#!/usr/bin/env node
/**
 * Learns data/text/pos-learned-rules.json: contextual rules (Brill-style transformations, templates in
 * src/text/posRuleEngine.ts) that bring tagPos closer to spaCy's tags of the RSITMD validation
 * captions (../shared/data/pos-spacy/rsitmd_val.json). Greedy: each round adds the rule with the
 * largest net gain (tokens fixed minus tokens broken) until no rule gains --min-gain tokens.
 *
 *   npx tsc && node tools/pos/learn-pos-rules.js            writes data/text/pos-learned-rules.json
 *   node tools/pos/learn-pos-rules.js --holdout 2,3,4,6     learns on half the images, scores the other half
 *
 * --lib DIR: the compiled src/text (default lib/text).
 */
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at < 0 ? fallback : args[at + 1];
};
const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.resolve(option('--lib', path.join(ROOT, 'lib', 'text')));
const VAL = path.resolve(ROOT, '..', 'shared', 'data', 'pos-spacy', 'rsitmd_val.json');
const OUT = path.join(ROOT, 'data', 'text', 'pos-learned-rules.json');

const { baseTags } = require(path.join(LIB, 'tagPos.js'));
const { ruleMatches, applyLearnedRules } = require(path.join(LIB, 'posRuleEngine.js'));
const { cleanCaption } = require(path.join(LIB, 'cleanCaption.js'));
const { spacyWords } = require(path.join(LIB, 'spacyWords.js'));

/** One sample per caption whose spaCy token count matches ours: words, gold tags, base tags. */
function samples(entries) {
  const out = [];
  for (const entry of entries) {
    entry.caption.forEach((caption, k) => {
      const words = spacyWords(cleanCaption(caption));
      if (words.length === entry.pos[k].length) out.push({ words, gold: entry.pos[k], tags: baseTags(words) });
    });
  }
  return out;
}

function candidatesAt(words, tags, i, to) {
  const n = words.length;
  const w = words[i];
  const t = tags[i];
  const prevTag = i > 0 ? tags[i - 1] : '^';
  const nextTag = i + 1 < n ? tags[i + 1] : '$';
  const out = [[to, 'w', w], [to, 'w>t', w, nextTag], [to, 'w<t', w, prevTag], [to, 't>t', t, nextTag],
    [to, 't<t', t, prevTag], [to, 't<t>t', t, prevTag, nextTag]];
  if (i + 1 < n) out.push([to, 'w>w', w, words[i + 1]], [to, 't>w', t, words[i + 1]]);
  if (i > 0) out.push([to, 'w<w', w, words[i - 1]], [to, 't<w', t, words[i - 1]]);
  if (i + 1 === n) out.push([to, 'w$', w]);
  return out;
}

/** Tokens fixed minus tokens broken if `rule` were applied now. */
function netGain(rule, data) {
  let net = 0;
  for (const { words, gold, tags } of data) {
    for (let i = 0; i < words.length; i++) {
      if (tags[i] === rule[0] || !ruleMatches(rule, words, tags, i)) continue;
      if (gold[i] === rule[0]) net++;
      else if (gold[i] === tags[i]) net--;
    }
  }
  return net;
}

function learn(data, minGain, log) {
  const rules = [];
  for (;;) {
    const fixes = new Map();
    for (const { words, gold, tags } of data) {
      for (let i = 0; i < words.length; i++) {
        if (tags[i] === gold[i]) continue;
        for (const rule of candidatesAt(words, tags, i, gold[i])) {
          const key = JSON.stringify(rule);
          fixes.set(key, (fixes.get(key) || 0) + 1);
        }
      }
    }
    let best = null;
    let bestNet = minGain - 1;
    for (const [key, fixed] of [...fixes].sort((x, y) => y[1] - x[1])) {
      if (fixed <= bestNet) break;
      const rule = JSON.parse(key);
      const net = netGain(rule, data);
      if (net > bestNet) {
        best = rule;
        bestNet = net;
      }
    }
    if (!best) return rules;
    rules.push(best);
    if (log) console.error(`rule ${rules.length}: ${JSON.stringify(best)} +${bestNet}`);
    for (const sample of data) applyLearnedRules([best], sample.words, sample.tags);
  }
}

function score(rules, data) {
  let tokens = 0, right = 0, exact = 0;
  for (const { words, gold, tags } of data) {
    const out = applyLearnedRules(rules, words, [...tags]);
    let all = true;
    out.forEach((t, i) => { tokens++; if (t === gold[i]) right++; else all = false; });
    if (all) exact++;
  }
  return `token ${(100 * right / tokens).toFixed(2)}%, identical ${(100 * exact / data.length).toFixed(2)}%`;
}

const entries = JSON.parse(fs.readFileSync(VAL, 'utf8'));
const holdout = option('--holdout');
if (holdout) {
  const learnOn = samples(entries.filter((_, k) => k % 2 === 0));
  const scoreOn = samples(entries.filter((_, k) => k % 2 === 1));
  console.log(`base: held-out ${score([], scoreOn)}`);
  for (const minGain of holdout.split(',').map(Number)) {
    const data = learnOn.map((s) => ({ ...s, tags: [...s.tags] }));
    const rules = learn(data, minGain, false);
    console.log(`min gain ${minGain}: ${rules.length} rules, held-out ${score(rules, scoreOn)}`);
  }
} else {
  const minGain = Number(option('--min-gain', '2'));
  const data = samples(entries);
  const base = score([], data);
  const rules = learn(data.map((s) => ({ ...s, tags: [...s.tags] })), minGain, true);
  const lines = rules.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  fs.writeFileSync(OUT, [
    '{',
    `  "source": ${JSON.stringify("Generated by tools/pos/learn-pos-rules.js from spaCy's tags of the RSITMD validation captions; do not edit.")},`,
    `  "score": ${JSON.stringify(`${rules.length} rules, min gain ${minGain}; on those captions: before ${base}, after ${score(rules, data)}.`)},`,
    '  "rules": [',
    lines,
    '  ]',
    '}',
    '',
  ].join('\n'));
  console.log(`wrote ${path.relative(ROOT, OUT)}: ${rules.length} rules; val before ${base}, after ${score(rules, data)}`);
}
