/**
 * Multi-head scaled-dot-product attention, as inside torch's nn.MultiheadAttention between
 * in_proj and out_proj. The packed projection qkv is (B, L, 3, H, D): each token's row of
 * 3*H*D holds q (H,D), then k (H,D), then v (H,D); the output is (B, L, H*D).
 */
import { addon } from '../native/addon';

/** Arguments of {@link attentionForward}. */
export interface AttentionForwardArgs {
  /** Output (B,L,H*D), heads concatenated as out_proj expects. */
  out: Float32Array;
  /** Packed q, k, v (B,L,3,H,D). */
  qkv: Float32Array;
  /** Batch. */
  b: number;
  /** Tokens. */
  l: number;
  /** Heads. */
  h: number;
  /** Head width. */
  d: number;
  /** Whether query i sees only keys 0..i (the text tower's mask). */
  causal: boolean;
  /** Receives the softmax (B,H,L,L) for the backward pass; omit in inference. */
  probs?: Float32Array | null;
}

/** Arguments of {@link attentionBackward}. */
export interface AttentionBackwardArgs {
  /** Gradient of the packed projection (B,L,3,H,D), overwritten. */
  dqkv: Float32Array;
  /** Output gradient (B,L,H*D). */
  dout: Float32Array;
  /** The forward's input (B,L,3,H,D). */
  qkv: Float32Array;
  /** The softmax (B,H,L,L) saved by the forward. */
  probs: Float32Array;
  b: number;
  l: number;
  h: number;
  d: number;
  /** As in the forward. */
  causal: boolean;
}

/** out = softmax(q k^T / sqrt(D) [+ causal mask]) v per batch and head, on all cores. */
export function attentionForward(a: AttentionForwardArgs): void {
  addon().attentionForward({ out: a.out, probs: a.probs ?? null, qkv: a.qkv, b: a.b, l: a.l, h: a.h, d: a.d, causal: a.causal });
}

/** dqkv (gradients of q, k and v) from dout, the saved qkv and probs. */
export function attentionBackward(a: AttentionBackwardArgs): void {
  addon().attentionBackward({
    dqkv: a.dqkv, dout: a.dout, qkv: a.qkv, probs: a.probs, b: a.b, l: a.l, h: a.h, d: a.d, causal: a.causal,
  });
}
