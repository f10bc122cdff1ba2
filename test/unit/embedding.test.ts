import { embeddingForward } from '../../src/ops/embedding';
import { randomArray } from '../helpers/numeric';

function expectError(fn: () => void, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect((caught as { code?: string } | undefined)?.code).toBe(code);
  expect((caught as Error).message).toMatch(pattern);
}

describe('embeddingForward', () => {
  const n = 3, l = 5, c = 6, vocab = 11;
  const table = randomArray(vocab * c, 1);
  const positional = randomArray(l * c, 2);
  const ids = Int32Array.from({ length: n * l }, (_, i) => (i * 7 + 3) % vocab);
  ids[0] = 0;
  ids[1] = vocab - 1; // both ends of the range

  it('gathers table rows, adding the positional embedding when given (exact)', () => {
    const plain = new Float32Array(n * l * c), withPos = new Float32Array(n * l * c);
    embeddingForward({ out: plain, ids, table, n, l, c, vocab });
    embeddingForward({ out: withPos, ids, table, positional, n, l, c, vocab });
    for (let t = 0; t < n * l; t++) {
      for (let k = 0; k < c; k++) {
        expect(plain[t * c + k]).toBe(table[ids[t] * c + k]);
        expect(withPos[t * c + k]).toBe(Math.fround(table[ids[t] * c + k] + positional[(t % l) * c + k]));
      }
    }
  });

  it('rejects an id outside [0, vocab), naming ids and its position, and leaves out untouched', () => {
    const out = new Float32Array(n * l * c).fill(9);
    const bad = ids.slice();
    bad[7] = vocab; // row 1, position 2
    expectError(() => embeddingForward({ out, ids: bad, table, n, l, c, vocab }), 'POSAPL_SHAPE',
      /ids in \[0, 11\) but received ids\[7\] = 11 \(row 1, position 2\)/);
    bad[7] = 1;
    bad[14] = -1;
    expectError(() => embeddingForward({ out, ids: bad, table, n, l, c, vocab }), 'POSAPL_SHAPE',
      /ids\[14\] = -1 \(row 2, position 4\)/);
    expect(out.every((v) => v === 9)).toBe(true);
  });

  it('rejects wrong kinds, lengths, dims and aliasing, naming the argument', () => {
    const ok = () => ({ out: new Float32Array(n * l * c), ids, table, positional, n, l, c, vocab });
    expectError(() => embeddingForward({ ...ok(), ids: Float32Array.from(ids) as unknown as Int32Array }), 'POSAPL_TYPE', /\bids\b/);
    expectError(() => embeddingForward({ ...ok(), table: new Float32Array(vocab * c - 1) }), 'POSAPL_SHAPE', /\btable\b/);
    expectError(() => embeddingForward({ ...ok(), positional: new Float32Array(c) }), 'POSAPL_SHAPE', /\bpositional\b/);
    expectError(() => embeddingForward({ ...ok(), vocab: 0 }), 'POSAPL_SHAPE', /\bvocab\b/);
    expectError(() => embeddingForward({ ...ok(), l: 5.5 }), 'POSAPL_SHAPE', /\bl\b/);
    const shared = new Float32Array(n * l * c + l * c);
    expectError(
      () => embeddingForward({ ...ok(), out: shared.subarray(0, n * l * c), positional: shared.subarray(n * l * c - 1, n * l * c - 1 + l * c) }),
      'POSAPL_ALIAS', /\bout\b/,
    );
  });
});
