/**
 * Token-embedding gather (frozen tables, so forward only): out[n,l,:] = table[ids[n,l],:],
 * plus positional[l,:] when given.
 */
import { addon } from '../native/addon';

/** Arguments of {@link embeddingForward}. */
export interface EmbeddingForwardArgs {
  /** Output (N,L,C). */
  out: Float32Array;
  /** Token ids (N,L), each in [0, vocab); any other throws POSAPL_SHAPE naming its position. */
  ids: Int32Array;
  /** Embedding table (vocab,C). */
  table: Float32Array;
  /** Sequences. */
  n: number;
  /** Tokens per sequence. */
  l: number;
  /** Channels. */
  c: number;
  /** Rows of the table. */
  vocab: number;
  /** Positional embedding (L,C) added to every sequence; omit for none. */
  positional?: Float32Array | null;
}

/** Gathers table rows by id, adding the positional embedding when given. */
export function embeddingForward(a: EmbeddingForwardArgs): void {
  addon().embeddingForward({
    out: a.out, ids: a.ids, table: a.table, positional: a.positional ?? null, n: a.n, l: a.l, c: a.c, vocab: a.vocab,
  });
}
