// Side Fusion (spec section 4; the authors' "SLinear" chain, adapter_1..4). Taps f1..f4 (N,L,C)
// are the outputs of four blocks; SL_k(z) = ReLU(z w_k^T + b_k) for k = 1..3, and Linear_4
// (w4, b4) has no ReLU. Torch layouts: w_k (C,C), b_k (C).
//
// With `mean` (vision tower) every SL_k ends with a mean over the L tokens, so s_k is (N,C)
// and is broadcast over the tokens before it is added to the next tap:
//   chained: s1 = mean SL1(f1); s2 = mean SL2(f2 + s1); s3 = mean SL3(f3 + s2);
//            s4 = Linear4(mean(f4 + s3))            (= Linear4(mean(f4) + s3))
//   end-add: s_k = mean SL_k(f_k), k = 1..3;  s4 = Linear4(s1 + s2 + s3);  f4 is not used
// Without `mean` (text tower) the same holds per token: s_k and s4 are (N,L,C). Nothing then
// mixes tokens, so the text tower passes only its EOT rows, L = 1.
//
// S, the rows of s4, is N with mean and N*L without. Saved layout (floats):
//   h1 | h2 | h3 (N,L,C): the SL_k outputs after ReLU
//   z2 | z3 (N,L,C): the inputs of SL2 and SL3, chained only (end-add's inputs are the taps)
//   u (S,C): the input of Linear4
#pragma once

#include <cstdint>

namespace posapl {

inline int64_t side_fusion_saved_size(int64_t N, int64_t L, int64_t C, bool chained, bool mean) {
  return (chained ? 5 : 3) * N * L * C + (mean ? N : N * L) * C;
}
// Backward scratch: du, ds (S,C); dpre, dz (N,L,C).
inline int64_t side_fusion_scratch_size(int64_t N, int64_t L, int64_t C, bool mean) {
  return 2 * (mean ? N : N * L) * C + 2 * N * L * C;
}

// s4 (S,C); saved (side_fusion_saved_size); f1, f2, f3 (N,L,C); f4 (N,L,C) when chained, null
// for end-add.
void side_fusion_forward(float* s4, float* saved, const float* f1, const float* f2, const float* f3, const float* f4,
                         const float* w1, const float* b1, const float* w2, const float* b2, const float* w3,
                         const float* b3, const float* w4, const float* b4, int64_t N, int64_t L, int64_t C,
                         bool chained, bool mean);

// df1..df4 (N,L,C) are overwritten, each null when not needed (df4 always null for end-add).
// dw1..db4 are accumulated (+=). scratch (side_fusion_scratch_size) is clobbered. ds4 (S,C);
// f1, f2, f3 and saved as given to / left by the forward.
void side_fusion_backward(float* df1, float* df2, float* df3, float* df4, float* dw1, float* db1, float* dw2,
                          float* db2, float* dw3, float* db3, float* dw4, float* db4, float* scratch,
                          const float* ds4, const float* f1, const float* f2, const float* f3, const float* w1,
                          const float* w2, const float* w3, const float* w4, const float* saved, int64_t N,
                          int64_t L, int64_t C, bool chained, bool mean);

}  // namespace posapl
