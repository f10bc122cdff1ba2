import { hashSeed, SeededRandom } from '../../src/seededRandom';
import { epochOrder, sampleInt, sampleSeed } from '../../src/train/sampling';

describe('SeededRandom', () => {
  it('repeats from a seed, differs across seeds, and is uniform (mean 0.5 +- 0.01, bins within 10%)', () => {
    const a = new SeededRandom(42), b = new SeededRandom(42), c = new SeededRandom(43);
    const xs = Array.from({ length: 20000 }, () => a.random());
    expect(Array.from({ length: 20000 }, () => b.random())).toEqual(xs);
    expect(c.random()).not.toBe(xs[0]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
    const bins = new Array(10).fill(0);
    xs.forEach((x) => bins[Math.floor(x * 10)]++);
    for (const n of bins) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it('is xoshiro128** seeded by splitmix32 (first outputs of seed 0 from an independent BigInt reference)', () => {
    const mask = (1n << 32n) - 1n;
    const mul = (a: bigint, b: bigint) => (a * b) & mask;
    const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
    let z = 0n;
    const s: bigint[] = [];
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9n) & mask;
      let x = mul(z ^ (z >> 16n), 0x85ebca6bn);
      x = mul(x ^ (x >> 13n), 0xc2b2ae35n);
      s.push(x ^ (x >> 16n));
    }
    const expected: number[] = [];
    for (let i = 0; i < 8; i++) {
      expected.push(Number(mul(rotl(mul(s[1], 5n), 7n), 9n)));
      const t = (s[1] << 9n) & mask;
      s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11n);
    }
    const random = new SeededRandom(0);
    expect(Array.from({ length: 8 }, () => random.nextUint32())).toEqual(expected);
  });

  it('draws integers in [lo, hi), picks, weights and chances with the right frequencies', () => {
    const random = new SeededRandom(7);
    const counts = new Map<number, number>();
    for (let i = 0; i < 30000; i++) {
      const v = random.integer(-2, 4);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const n of counts.values()) expect(Math.abs(n - 5000)).toBeLessThan(300);
    let heavy = 0;
    for (let i = 0; i < 20000; i++) if (random.weighted([1, 3]) === 1) heavy++;
    expect(Math.abs(heavy / 20000 - 0.75)).toBeLessThan(0.015);
    let yes = 0;
    for (let i = 0; i < 20000; i++) if (random.chance(0.2)) yes++;
    expect(Math.abs(yes / 20000 - 0.2)).toBeLessThan(0.015);
    expect(['a', 'b', 'c']).toContain(random.pick(['a', 'b', 'c']));
  });

  it('draws standard normals (mean 0 +- 0.02, variance 1 +- 0.03)', () => {
    const random = new SeededRandom(3);
    const xs = Array.from({ length: 40000 }, () => random.normal());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});

describe('hashSeed', () => {
  it('gives distinct seeds for distinct tuples and depends on the order of its parts', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 3; seed++)
      for (let a = 0; a < 10; a++)
        for (let b = 0; b < 300; b++) seen.add(hashSeed(seed, a, b));
    expect(seen.size).toBe(3 * 10 * 300);
    expect(hashSeed(5, 1, 2)).not.toBe(hashSeed(5, 2, 1));
    expect(hashSeed(5)).not.toBe(hashSeed(5, 0));
    expect(hashSeed(2024, 3, 17)).toBe(hashSeed(2024, 3, 17));
    expect(Number.isInteger(hashSeed(-1, 2 ** 40))).toBe(true);
  });
});

describe('training streams', () => {
  it('shuffles each epoch differently, reproducibly, as a permutation', () => {
    const a = epochOrder(500, 1, 0), b = epochOrder(500, 1, 1);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(Array.from(epochOrder(500, 1, 0))).toEqual(Array.from(a));
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('derives distinct augmentation seeds per (seed, epoch, position) and replacement indices in range', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 3; seed++)
      for (let epoch = 0; epoch < 10; epoch++)
        for (let position = 0; position < 300; position++) seen.add(sampleSeed(seed, epoch, position));
    expect(seen.size).toBe(3 * 10 * 300);
    const drawn = new Set<number>();
    for (let salt = 1; salt < 200; salt++) drawn.add(sampleInt(7, 1, 0, 5, salt));
    expect([...drawn].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
