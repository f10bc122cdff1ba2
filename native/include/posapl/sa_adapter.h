// The SA-adapter ("AdapterSAZeroInit", spec section 2), on the MLP output m of a block:
//   y   = m wd^T + bd                      down projection C -> R
//   qkv = y win^T + bin                    nn.MultiheadAttention(R, H) in_proj, rows [q; k; v]
//   att = attention(qkv), no mask          over the L tokens of each of the N sequences
//   a   = att wo^T + bo + y                out_proj plus the residual
//   out = a wu^T + bu                      up projection R -> C (zero-initialised in the model)
// Torch layouts: wd (R,C), bd (R), win (3R,R), bin (3R), wo (R,R), bo (R), wu (C,R), bu (C).
// Head width D = R / H.
//
// Saved layout (floats): y (N,L,R) | qkv (N,L,3R) | att (N,L,R) | a (N,L,R) | probs (N,H,L,L)
#pragma once

#include <cstdint>

namespace posapl {

inline int64_t sa_adapter_saved_size(int64_t N, int64_t L, int64_t R, int64_t H) {
  return 6 * N * L * R + N * H * L * L;
}
// Backward scratch: da (N,L,R), datt (N,L,R), dqkv (N,L,3R).
inline int64_t sa_adapter_scratch_size(int64_t N, int64_t L, int64_t R) { return 5 * N * L * R; }

// out (N,L,C); saved (sa_adapter_saved_size); m (N,L,C).
void sa_adapter_forward(float* out, float* saved, const float* m, const float* wd, const float* bd,
                        const float* win, const float* bin, const float* wo, const float* bo, const float* wu,
                        const float* bu, int64_t N, int64_t L, int64_t C, int64_t R, int64_t H);

// dm (N,L,C) is overwritten, or null when not needed; the eight parameter gradients are
// accumulated (+=). scratch (sa_adapter_scratch_size) is clobbered. dout (N,L,C); m and saved as
// given to / left by the forward.
void sa_adapter_backward(float* dm, float* dwd, float* dbd, float* dwin, float* dbin, float* dwo, float* dbo,
                         float* dwu, float* dbu, float* scratch, const float* dout, const float* m, const float* wd,
                         const float* win, const float* wo, const float* wu, const float* saved, int64_t N,
                         int64_t L, int64_t C, int64_t R, int64_t H);

}  // namespace posapl
