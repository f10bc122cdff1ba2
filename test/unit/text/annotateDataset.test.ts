import { addPosToDataset, cleanCaption, tagPos } from '../../../src/text';

describe('addPosToDataset', () => {
  it('adds pos shaped like caption in both layouts, without changing the input', () => {
    const train = [{ caption: 'There is a pond.', image_id: 1 }];
    const val = [{ caption: ['A river.', 'Two green trees'], image: 'x.tif' }];
    const t = addPosToDataset(train);
    expect(t.entries).toEqual([{ caption: 'There is a pond.', image_id: 1, pos: ['pronoun', 'verb', 'determiner', 'noun'] }]);
    expect(train[0]).not.toHaveProperty('pos');
    const v = addPosToDataset(val);
    expect(v.entries[0].pos).toEqual([tagPos(cleanCaption('A river.')), tagPos(cleanCaption('Two green trees'))]);
    expect([t.tagged, v.tagged, v.skipped.length]).toEqual([1, 2, 0]);
  });

  it('reports every missing or empty caption by entry index', () => {
    const data = [{ caption: 'ok' }, { image: 'no caption' }, { caption: ['fine', '...', 7] }];
    expect(() => addPosToDataset(data)).toThrow(
      /3 invalid caption\(s\):\n {2}entry 1: caption is missing\n {2}entry 2, caption 1: caption "\.\.\." is empty after cleaning\n {2}entry 2, caption 2: caption is 7, not text/,
    );
    try {
      addPosToDataset(data);
    } catch (e) {
      expect((e as { code: string }).code).toBe('POSAPL_DATA');
    }
  });

  it('with skipInvalid gives invalid captions an empty list and counts them', () => {
    const r = addPosToDataset([{ caption: '!!!' }, { caption: ['a road', ''] }], { skipInvalid: true });
    expect(r.entries.map((e) => e.pos)).toEqual([[], [['determiner', 'noun'], []]]);
    expect(r.skipped).toEqual([
      { entry: 0, reason: 'caption "!!!" is empty after cleaning' },
      { entry: 1, caption: 1, reason: 'caption "" is empty after cleaning' },
    ]);
    expect(r.tagged).toBe(1);
  });

  it('rejects what is not a list of entries', () => {
    expect(() => addPosToDataset({ caption: 'x' })).toThrow(/JSON array of entries/);
    expect(() => addPosToDataset(['text'])).toThrow(/entry 0 is "text", not an object/);
  });

  it('reports progress up to the total', () => {
    const seen: number[][] = [];
    addPosToDataset(Array.from({ length: 3 }, () => ({ caption: ['a', 'b'] })), { onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([[6, 6]]);
  });
});
