/**
 * Seeded randomness for the data pipeline. Every augmentation draws from a generator seeded by
 * {@link sampleSeed}(seed, epoch, index), so a run's images are reproducible whatever the
 * number of workers or the order in which they finish.
 */

/** A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The per-image seed of sample `index` in `epoch` of a run seeded with `seed` (each taken modulo 2^32). */
export function sampleSeed(seed: number, epoch: number, index: number): number {
  return mix32((mix32((mix32(seed >>> 0) ^ (epoch >>> 0)) >>> 0) ^ (index >>> 0)) >>> 0);
}

/** xoshiro128** (Blackman and Vigna), seeded from one 32-bit integer through splitmix32. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let z = seed >>> 0;
    const next = (): number => {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits, like numpy's random(). */
  random(): number {
    const high = this.nextUint32() >>> 5, low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** A uniform integer in [lo, hi) (hi > lo), as torch.randint(lo, hi). */
  integer(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
