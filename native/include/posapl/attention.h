// Multi-head scaled-dot-product attention, as inside torch's nn.MultiheadAttention after
// in_proj: the packed projection qkv (B, L, 3, H, D) — that is, each token's row of length
// 3*H*D holds q (H,D), then k (H,D), then v (H,D) — gives out (B, L, H*D) before out_proj.
//   scores = q k^T / sqrt(D)  (+ -inf above the diagonal when causal)
//   probs  = softmax(scores)  (numerically stable: max subtracted)
//   out    = probs v
#pragma once

#include <cstdint>

namespace posapl {

// out (B,L,H*D); probs (B,H,L,L) receives the softmax for backward, or null in inference.
void attention_forward(float* out, float* probs, const float* qkv, int64_t B, int64_t L, int64_t H, int64_t D,
                       bool causal);

// dqkv (B,L,3*H*D) is overwritten; dout (B,L,H*D); qkv and probs as saved by the forward.
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* probs, int64_t B, int64_t L,
                        int64_t H, int64_t D, bool causal);

}  // namespace posapl
