// LayerNorm over the last dimension C, as torch.nn.LayerNorm(C, eps=1e-5) with weight and bias:
//   mean = sum_c x / C,  var = sum_c (x - mean)^2 / C  (biased),  rstd = 1 / sqrt(var + eps)
//   out  = (x - mean) * rstd * weight + bias
#pragma once

#include <cstdint>

namespace posapl {

constexpr float kLayerNormEps = 1e-5f;

// out (N,C); mean (N) and rstd (N) receive the row statistics for backward, or are null in
// inference; x (N,C); weight (C); bias (C).
void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                       const float* bias, int64_t N, int64_t C);

// dx (N,C) is overwritten. dweight (C) and dbias (C) are accumulated (+=), or null for a frozen
// LayerNorm. dout (N,C); x (N,C), weight (C), mean (N), rstd (N) as given to / saved by the forward.
void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C);

}  // namespace posapl
