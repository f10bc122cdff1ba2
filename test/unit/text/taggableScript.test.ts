import { isTaggableScript } from '../../../src/text';

describe('isTaggableScript', () => {
  it('accepts Latin letters with digits, punctuation and accents, and nothing else', () => {
    for (const c of ['Many green trees are around a square.', '2 planes at the café — near 3 hangars!', '']) expect(isTaggableScript(c)).toBe(true);
    for (const c of ['一些绿色的树木', 'дорога у реки', 'a road وطريق', 'ένας δρόμος']) expect(isTaggableScript(c)).toBe(false);
  });
});
