/**
 * The project's one source of seeded randomness: a generator (xoshiro128**) for streams of
 * numbers and a hash ({@link hashSeed}) that derives independent seeds from indices, so that
 * parameters, augmentations, the epoch order and the demo's scenes are reproducible whatever the
 * number of workers or the order in which they finish.
 */

// Looked up once: under jest this module runs in a vm context, where every lookup of a global
// such as Math goes through the context's interceptors and costs more than the arithmetic.
const { imul, floor, sqrt, log, sin, cos, PI } = Math;

/** A 32-bit integer hash with good avalanche (Chris Wellons' lowbias32). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A 32-bit seed derived from a seed and any number of indices (each taken modulo 2^32), e.g.
 * hashSeed(seed, epoch, sample): distinct tuples give unrelated seeds.
 */
export function hashSeed(seed: number, ...indices: number[]): number {
  let h = mix32(seed >>> 0);
  for (const v of indices) h = mix32((h ^ (v >>> 0)) >>> 0);
  return h;
}

/** xoshiro128** (Blackman and Vigna) with its state filled by splitmix32 from one 32-bit seed. */
export class SeededRandom {
  private readonly s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let x = z;
      x = imul(x ^ (x >>> 16), 0x85ebca6b);
      x = imul(x ^ (x >>> 13), 0xc2b2ae35);
      this.s[i] = (x ^ (x >>> 16)) >>> 0;
    }
    // The all-zero state is the generator's one fixed point.
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = imul(rotl(imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits, like numpy's random(). */
  random(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** A uniform integer in [lo, hi) (hi > lo), as torch.randint(lo, hi). */
  integer(lo: number, hi: number): number {
    return lo + floor(this.random() * (hi - lo));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.random() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[floor(this.random() * items.length)];
  }

  /** An index drawn with the given (unnormalised) weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = sqrt(-2 * log(u));
    this.spare = r * sin(2 * PI * v);
    return r * cos(2 * PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
