import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readEvalSet, readTrainSet, remapImageIds } from '../../../src/data/datasets';
import { jsonErrorOffset, positionOf } from '../../../src/data/jsonLocation';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-datasets-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

// The first entries of RSITMD's files, in the authors' layout (label fields are ignored).
const TRAIN = [
  { caption: 'The river banks decorated with trees, grass and houses are connected by bridges.', image: 'train/bridge_942.tif', image_id: 539, label_name: 'bridge', label: 0 },
  { caption: 'the bridge traverses the green river with trees on the river bank .', image: 'train/bridge_942.tif', image_id: 539, label_name: 'bridge', label: 0 },
  { caption: 'Many buildings are around a square.', image: 'train/square_1.tif', image_id: 12, label_name: 'square', label: 3 },
  { caption: 'A bridge over the river.', image: 'train/bridge_943.tif', image_id: 540 },
  { caption: 'Trees around the square.', image: 'train/square_1.tif', image_id: 12, pos: ['noun', 'adposition', 'determiner', 'noun'] },
];
const TEST = [
  { image: 'test/parking_229.tif', caption: ['Next door is a wide road.', 'There is a wide path beside the parking lot.'] },
  { image: 'test/park_217.tif', caption: ['the park is built on bare ground with two ponds .'], pos: [['determiner', 'noun', 'auxiliary', 'verb']] },
];

describe('readTrainSet / remapImageIds', () => {
  it('reads the authors\' train layout and numbers image ids in first-seen order', () => {
    const samples = readTrainSet(write('train.json', TRAIN));
    expect(samples).toHaveLength(5);
    expect(samples[0]).toEqual({ image: 'train/bridge_942.tif', caption: TRAIN[0].caption, imageId: 539 });
    expect(samples[4].pos).toEqual(['noun', 'adposition', 'determiner', 'noun']);
    expect(samples[0].pos).toBeUndefined();
    expect(Array.from(remapImageIds(samples))).toEqual([0, 0, 1, 2, 1]);
    expect(remapImageIds(samples)).toBeInstanceOf(Int32Array);
  });

  it('names the entry and field of a bad entry', () => {
    const bad = (entries: unknown, re: RegExp) => {
      const e = errorOf(() => readTrainSet(write('bad.json', entries)));
      expect(e.code).toBe('POSAPL_DATA');
      expect(e.message).toContain('bad.json');
      expect(e.message).toMatch(re);
    };
    bad([TRAIN[0], { image: 'a.tif', image_id: 1 }], /entry 1: expected a non-empty string for "caption" but found no such field/);
    bad([{ ...TRAIN[0], image_id: [1] }], /entry 0: expected a number or string for "image_id" but found an array/);
    bad([TRAIN[0], TRAIN[1], { ...TRAIN[0], pos: ['noun', 3] }], /entry 2: expected an array of strings for "pos"/);
    bad([TRAIN[0], 'x'], /entry 1: expected an object but found string "x"/);
    bad({ entries: TRAIN }, /expected a JSON array of entries but found an object/);
  });

  it('names a missing file', () => {
    const e = errorOf(() => readTrainSet(path.join(dir, 'absent.json')));
    expect(e.code).toBe('POSAPL_DATA');
    expect(e.message).toMatch(/cannot read .*absent\.json: no such file/);
  });
});

describe('readEvalSet', () => {
  it('reads images with their captions and POS lists', () => {
    const images = readEvalSet(write('test.json', TEST));
    expect(images).toEqual([
      { image: 'test/parking_229.tif', captions: TEST[0].caption },
      { image: 'test/park_217.tif', captions: TEST[1].caption, pos: TEST[1].pos },
    ]);
  });

  it('rejects bad captions and POS lists that do not match them', () => {
    const e1 = errorOf(() => readEvalSet(write('t1.json', [{ image: 'a.tif', caption: 'one caption' }])));
    expect(e1.message).toMatch(/t1\.json: entry 0: expected a non-empty array of non-empty strings for "caption" but found string "one caption"/);
    const e2 = errorOf(() => readEvalSet(write('t2.json', [TEST[0], { ...TEST[1], pos: [['noun'], ['noun']] }])));
    expect(e2.code).toBe('POSAPL_DATA');
    expect(e2.message).toMatch(/t2\.json: entry 1: "pos" has 2 lists for 1 captions/);
    const e3 = errorOf(() => readEvalSet(write('t3.json', [{ caption: ['x'] }])));
    expect(e3.message).toMatch(/entry 0: expected a non-empty string for "image"/);
  });
});

describe('malformed JSON', () => {
  const cases: Array<[string, string, number, number]> = [
    ['trailing comma', '[\n  {"image": "a",\n   "caption": ["x"],}\n]', 3, 21],
    ['bad token', '[{"image": "a"},\n {"image": x}]', 2, 12],
    ['unexpected end', '[{"image": "a"},\n {"image": "b"', 2, 15],
    ['empty file', '', 1, 1],
    ['control character in a string', '[{"image": "a\tb"}]', 1, 14],
    ['missing colon', '{"a" 1}', 1, 6],
    ['bad escape', '["a\\q"]', 1, 5],
    ['bad number', '[01]', 1, 3],
    ['text after the value', '[1]\n]', 2, 1],
  ];
  for (const [name, text, line, column] of cases) {
    it(`${name}: line ${line}, column ${column}`, () => {
      const e = errorOf(() => readEvalSet(write('m.json', text)));
      expect(e.code).toBe('POSAPL_DATA');
      expect(e.message).toContain(`m.json:${line}:${column}: malformed JSON`);
    });
  }

  it('the locator accepts every valid document JSON.stringify writes, including deep nesting', () => {
    const docs = [TRAIN, TEST, 'a "quoted" \\ \u0001 string \u00e9', -1.5e-7, [[[[]]]], {}, { a: { b: [true, false, null] } }];
    for (const d of docs) expect(jsonErrorOffset(JSON.stringify(d, null, 2))).toBe(-1);
    expect(jsonErrorOffset('['.repeat(100000) + ']'.repeat(100000))).toBe(-1);
    expect(positionOf('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('captions and splits that cannot be used', () => {
  it('names the file and entry of a caption that cleaning leaves empty', () => {
    const train = errorOf(() => readTrainSet(write('blank-train.json', [TRAIN[0], { ...TRAIN[1], caption: ' ... ' }])));
    expect(train).toMatchObject({ code: 'POSAPL_DATA', message: expect.stringMatching(/blank-train\.json: entry 1: "caption" " \.\.\. " is empty after cleaning/) });
    const test = errorOf(() => readEvalSet(write('blank-test.json', [{ ...TEST[0], caption: ['fine', '   '] }])));
    expect(test.message).toMatch(/blank-test\.json: entry 0: "caption" 1 "   " is empty after cleaning/);
  });

  it('refuses a split with no entries, naming the file', () => {
    expect(errorOf(() => readEvalSet(write('empty-test.json', []))).message).toMatch(/empty-test\.json: no entries/);
    expect(errorOf(() => readTrainSet(write('empty-train.json', '[ ]'))).message).toMatch(/empty-train\.json: no entries/);
  });
});
