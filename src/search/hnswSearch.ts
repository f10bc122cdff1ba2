/**
 * Approximate top-k through usearch's HNSW graph, for large archives. usearch is an optional
 * dependency, required only when this is used; without it the error says how to install it.
 */
import { posaplError } from '../errors';
import { Scored } from './topK';

/** Graph parameters of {@link HnswSearch} (usearch's names; higher expansion: better recall, slower). */
export interface HnswOptions {
  /** Neighbours per node (default 16). */
  connectivity?: number;
  /** Candidates while inserting (default 128). */
  expansionAdd?: number;
  /** Candidates while searching (default 64). */
  expansionSearch?: number;
  /** Threads used to build the graph (default: all cores). */
  threads?: number;
}

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vector: Float32Array, k: number, threads: number): { keys: BigUint64Array; distances: Float32Array };
  size(): number;
}
interface UsearchModule {
  Index: new (config: Record<string, unknown>) => UsearchIndex;
}

/** usearch, or a POSAPL_NO_USEARCH error saying how to get it. */
export function requireUsearch(): UsearchModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('usearch') as UsearchModule;
  } catch (cause) {
    throw posaplError('POSAPL_NO_USEARCH',
      `posapl: approximate search needs the optional package usearch, which is not installed or does not load here (${(cause as Error).message.split('\n')[0]}); install it with: npm install usearch@~2.21.4`, cause);
  }
}

/** Whether usearch loads here. */
export function usearchAvailable(): boolean {
  try {
    requireUsearch();
    return true;
  } catch {
    return false;
  }
}

/** An HNSW graph over L2-normalised rows, scored by inner product (cosine similarity). */
export class HnswSearch {
  private readonly graph: UsearchIndex;

  constructor(rows: Float32Array, readonly count: number, readonly dim: number, options: HnswOptions = {}) {
    const usearch = requireUsearch();
    const threads = options.threads ?? 0; // usearch: 0 = all cores
    this.graph = new usearch.Index({
      dimensions: dim, metric: 'ip', quantization: 'f32', connectivity: options.connectivity ?? 16,
      expansion_add: options.expansionAdd ?? 128, expansion_search: options.expansionSearch ?? 64, multi: false,
    });
    if (count > 0) {
      const keys = new BigUint64Array(count);
      for (let i = 0; i < count; i++) keys[i] = BigInt(i);
      this.graph.add(keys, rows.subarray(0, count * dim), threads);
    }
  }

  /** The (about) `k` best rows of each of the `nq` queries (nq, dim), best first. */
  search(queries: Float32Array, nq: number, k: number): Scored[][] {
    if (!Number.isInteger(nq) || nq < 1 || queries.length !== nq * this.dim) {
      throw posaplError('POSAPL_SHAPE', `Expected ${nq}x${this.dim} values in queries but received ${queries.length}`);
    }
    if (!Number.isInteger(k) || k < 1) throw posaplError('POSAPL_TYPE', `Expected a positive integer for k but received ${k}`);
    return Array.from({ length: nq }, (_, q) => {
      if (this.count === 0) return [];
      const found = this.graph.search(queries.subarray(q * this.dim, (q + 1) * this.dim), Math.min(k, this.count), 1);
      const out: Scored[] = [];
      // usearch's 'ip' distance is 1 - <a, b>.
      for (let i = 0; i < found.keys.length; i++) out.push({ index: Number(found.keys[i]), score: 1 - found.distances[i] });
      return out;
    });
  }
}
