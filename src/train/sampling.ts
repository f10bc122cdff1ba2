/**
 * Seeded sampling for training: the epoch's shuffled order and per-sample augmentation seeds,
 * each a pure function of (seed, epoch, index), so a resumed run sees exactly the same data.
 */
import { GaussianRandom } from '../posapl/parameters';

/** A permutation of 0..n-1 for `epoch` (Fisher-Yates from a generator seeded by seed and epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new GaussianRandom(mix(seed, epoch, 0x5eed));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** A 32-bit seed for the augmentation of the sample at `position` of `epoch`. */
export function sampleSeed(seed: number, epoch: number, position: number): number {
  return mix(seed, epoch, position);
}

/** A uniform integer in [0, n) drawn from (seed, epoch, position, salt): e.g. a replacement sample. */
export function sampleInt(n: number, seed: number, epoch: number, position: number, salt: number): number {
  return Math.floor(new GaussianRandom(mix(mix(seed, epoch, position), salt, 0x9e37)).uniform() * n);
}

function mix(a: number, b: number, c: number): number {
  let h = (a ^ 0x811c9dc5) >>> 0;
  for (const v of [b, c]) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
  }
  return h;
}
