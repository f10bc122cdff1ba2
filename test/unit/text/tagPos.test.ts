import * as fs from 'fs';
import { cleanCaption, POS_WORDS, spacyWords, tagPos } from '../../../src/text';
import { sharedFile } from './helpers';

/** Agreement with spaCy en_core_web_sm's POS words in ../shared/data/pos-spacy (the authors' own files). */
function agreement(name: string) {
  const entries = JSON.parse(fs.readFileSync(sharedFile('data', 'pos-spacy', name), 'utf8')) as { caption: string[]; pos: string[][] }[];
  let tokens = 0, agreeing = 0, identical = 0, captions = 0, countMismatches = 0;
  for (const entry of entries) {
    entry.caption.forEach((caption, k) => {
      const ours = tagPos(cleanCaption(caption));
      const spacy = entry.pos[k];
      captions++;
      if (ours.length !== spacy.length) {
        countMismatches++;
        return;
      }
      let same = 0;
      ours.forEach((tag, i) => (same += tag === spacy[i] ? 1 : 0));
      tokens += spacy.length;
      agreeing += same;
      if (same === spacy.length) identical++;
    });
  }
  return { captions, tokenAgreement: agreeing / tokens, identicalCaptions: identical / captions, countMismatches };
}

describe('tagPos against spaCy', () => {
  // Rules were designed and learned on val; test is the report. Run: npx jest test/unit/text/tagPos.test.ts
  it.each([
    ['rsitmd_val.json', 0.98, 0.85],
    ['rsitmd_test.json', 0.97, 0.75],
  ])('%s: token agreement >= %d, identical captions >= %d, no count mismatch', (name, token, exact) => {
    const r = agreement(name);
    console.log(
      `${name}: ${r.captions} captions, token agreement ${(100 * r.tokenAgreement).toFixed(2)}%, ` +
        `identical captions ${(100 * r.identicalCaptions).toFixed(2)}%, token-count mismatches ${r.countMismatches}`,
    );
    expect(r.countMismatches).toBe(0);
    expect(r.tokenAgreement).toBeGreaterThanOrEqual(token);
    expect(r.identicalCaptions).toBeGreaterThanOrEqual(exact);
  });
});

describe('tagPos rules', () => {
  it.each([
    ['there is a pond', 'pronoun verb determiner noun'],
    ['theres a lot of cars', 'pronoun verb determiner noun adposition noun'],
    ['the land is a vast pasture', 'determiner noun auxiliary determiner adjective noun'],
    ['many trees have been planted nearby', 'adjective noun auxiliary auxiliary verb adverb'],
    ['the farm has a lot of grass', 'determiner noun verb determiner noun adposition noun'],
    ['cars are parked next to the road', 'noun auxiliary verb adverb adposition determiner noun'],
    ['the road is close to a river', 'determiner noun auxiliary adjective adposition determiner noun'],
    ['some of the land is bare', 'pronoun adposition determiner noun auxiliary adjective'],
    ['this is a busy city', 'pronoun auxiliary determiner adjective noun'],
    ['this church is white', 'determiner noun auxiliary adjective'],
    ['we can see that there is a road', 'pronoun auxiliary verb conjunction pronoun verb determiner noun'],
    ['a path used to cross the river', 'determiner noun verb participle verb determiner noun'],
    ['i dont see it', 'pronoun auxiliary participle verb pronoun'],
  ])('%j', (caption, expected) => {
    expect(tagPos(caption).join(' ')).toBe(expected);
  });

  it('gives one POS word per spaCy token, from the 14 words', () => {
    const words = new Set(Object.values(POS_WORDS));
    expect(words.size).toBe(14);
    const caption = 'theres a 100m road cannot 4% [x] square_189';
    const tags = tagPos(caption);
    expect(tags.length).toBe(spacyWords(caption).length);
    for (const tag of tags) expect(words.has(tag)).toBe(true);
    expect(tagPos('')).toEqual([]);
  });
});
