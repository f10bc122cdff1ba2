import { cleanCaption } from '../../../src/text';

describe('cleanCaption (the authors\' pre_caption)', () => {
  it.each([
    ['The river banks, decorated with trees.', 'the river banks decorated with trees'],
    ['A man-made lake / pond near <person>!', 'a man made lake pond near person'],
    ["It's a \"big\" (green) area: #1; ~ok? *yes*", 'its a big green area 1 ok yes'],
    ['  two   spaces\t\tand tabs  ', 'two spaces and tabs'],
    ['one\ttab stays', 'one\ttab stays'],
    ['trailing newlines\n\n', 'trailing newlines'],
    ['3.5 km-long road', '35 km long road'],
    ['MANY Buildings', 'many buildings'],
  ])('%j -> %j', (input, expected) => {
    expect(cleanCaption(input)).toBe(expected);
  });

  it('keeps the first maxWords words', () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    expect(cleanCaption(words.join(' '))).toBe(words.slice(0, 30).join(' '));
    expect(cleanCaption('a b c d', 2)).toBe('a b');
  });

  it('throws an error quoting the input when nothing is left', () => {
    for (const input of ['', '...', ' ! ? ', '\n']) {
      expect(() => cleanCaption(input)).toThrow(`caption ${JSON.stringify(input)} is empty after cleaning`);
      try {
        cleanCaption(input);
      } catch (e) {
        expect((e as { code: string }).code).toBe('POSAPL_TEXT');
      }
    }
  });
});
