/**
 * Seeded sampling for training: the epoch's shuffled order and per-sample augmentation seeds,
 * each a pure function of (seed, epoch, index), so a resumed run sees exactly the same data.
 */
import { hashSeed, SeededRandom } from '../seededRandom';

// Each stream hashes its own tag first, so no two streams share a seed.
const ORDER_STREAM = 1, AUGMENT_STREAM = 2, REPLACEMENT_STREAM = 3;

/** A permutation of 0..n-1 for `epoch` (Fisher-Yates from a generator seeded by seed and epoch). */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = new SeededRandom(hashSeed(seed, ORDER_STREAM, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** A 32-bit seed for the augmentation of the sample at `position` of `epoch`. */
export function sampleSeed(seed: number, epoch: number, position: number): number {
  return hashSeed(seed, AUGMENT_STREAM, epoch, position);
}

/** A uniform integer in [0, n) drawn from (seed, epoch, position, salt): e.g. a replacement sample. */
export function sampleInt(n: number, seed: number, epoch: number, position: number, salt: number): number {
  return new SeededRandom(hashSeed(seed, REPLACEMENT_STREAM, epoch, position, salt)).integer(0, n);
}
