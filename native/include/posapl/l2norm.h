// L2 normalisation of rows, as torch.nn.functional.normalize(x, dim=-1) (p=2, eps=1e-12):
//   out = x / max(||x||, eps)
#pragma once

#include <cstdint>

namespace posapl {

constexpr float kL2NormEps = 1e-12f;

// out (N,C); x (N,C).
void l2norm_forward(float* out, const float* x, int64_t N, int64_t C);

// dx (N,C) is overwritten; dout (N,C); x (N,C) as given to the forward. With n = ||x||:
//   n >= eps: dx = dout / n - x (x . dout) / n^3
//   n <  eps: dx = dout / eps  (the clamp passes no gradient to the norm, as in torch)
void l2norm_backward(float* dx, const float* dout, const float* x, int64_t N, int64_t C);

}  // namespace posapl
