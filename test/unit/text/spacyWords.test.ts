import { spacyWords } from '../../../src/text';

describe('spacyWords: spaCy\'s split of cleaned captions', () => {
  it.each([
    ['theres a house', ['there', 's', 'a', 'house']],
    ['i dont think so it cannot be', ['i', 'do', 'nt', 'think', 'so', 'it', 'can', 'not', 'be']],
    ['its well that shed is ill', ['its', 'well', 'that', 'shed', 'is', 'ill']],
    ['wont isnt theyre', ['wo', 'nt', 'is', 'nt', 'they', 're']],
    ['a 100m road 4% of 5km at 3pm', ['a', '100', 'm', 'road', '4', '%', 'of', '5', 'km', 'at', '3', 'pm']],
    ['square_189 4th fou1 color`s', ['square_189', '4th', 'fou1', 'color`s']],
    ['[x] $20 20$ a+b 1+2 <3 🌲trees', ['[', 'x', ']', '$', '20', '20', '$', 'a+b', '1', '+', '2', '<3', '🌲', 'trees']],
    ['', []],
  ])('%j', (caption, words) => {
    expect(spacyWords(caption)).toEqual(words);
  });
});
