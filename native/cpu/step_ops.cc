#include "step_ops.h"

#include <algorithm>

#include "posapl/threadpool.h"

namespace posapl {

void CpuStepOps::copy(float* dst, const float* src, int64_t n) { std::copy(src, src + n, dst); }

void CpuStepOps::relu_mask(float* dh, const float* h, int64_t n) {
  parallel_for(n, 1 << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      if (!(h[i] > 0.0f)) dh[i] = 0.0f;
  });
}

// out (G,C) (+)= scale * sum over the P rows of x (G,P,C)
void CpuStepOps::group_sum(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale, bool accumulate) {
  parallel_for(G, 16, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      float* o = out + g * C;
      if (!accumulate)
        for (int64_t c = 0; c < C; ++c) o[c] = 0.0f;
      for (int64_t p = 0; p < P; ++p) {
        const float* r = x + (g * P + p) * C;
        for (int64_t c = 0; c < C; ++c) o[c] += scale * r[c];
      }
    }
  });
}

// out (G,P,C) = x (G,P,C) + s (G,C) broadcast over P; x may be null (then out = s broadcast).
void CpuStepOps::add_broadcast(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P,
                               int64_t C) {
  parallel_for(G * P, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* sg = s + (i / P) * C;
      for (int64_t c = 0; c < C; ++c) out[i * C + c] = (x != nullptr ? x[i * C + c] : 0.0f) + scale * sg[c];
    }
  });
}

// dpre (G,P,C) = ds (G,C) / P broadcast over P, where h > 0 (the ReLU was open), else 0.
void CpuStepOps::relu_spread(float* dpre, const float* ds, const float* h, int64_t G, int64_t P, int64_t C) {
  const float scale = 1.0f / static_cast<float>(P);
  parallel_for(G * P, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* sg = ds + (i / P) * C;
      for (int64_t c = 0; c < C; ++c) dpre[i * C + c] = h[i * C + c] > 0.0f ? sg[c] * scale : 0.0f;
    }
  });
}

}  // namespace posapl
