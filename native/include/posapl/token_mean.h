// The vision Side Fusion's token ops: the mean over tokens and its broadcast back over them.
//   token mean:     out[b,:] = sum_l x[b,l,:] / L
//   broadcast add:  out[b,l,:] = x[b,l,:] + s[b,:]
#pragma once

#include <cstdint>

namespace posapl {

// out (B,C); x (B,L,C).
void token_mean_forward(float* out, const float* x, int64_t B, int64_t L, int64_t C);

// dx (B,L,C) is overwritten with dout[b,:] / L for every token; dout (B,C).
void token_mean_backward(float* dx, const float* dout, int64_t B, int64_t L, int64_t C);

// out (B,L,C); x (B,L,C); s (B,C).
void broadcast_add_forward(float* out, const float* x, const float* s, int64_t B, int64_t L, int64_t C);

// ds (B,C) is overwritten with sum_l dout[b,l,:]; dout (B,L,C). The gradient for x is dout
// itself, so no copy is made.
void broadcast_add_backward(float* ds, const float* dout, int64_t B, int64_t L, int64_t C);

}  // namespace posapl
