#include "posapl/token_mean.h"

#include <algorithm>

#include "posapl/threadpool.h"

namespace posapl {

namespace {

// out[b,:] = scale * sum_l x[b,l,:], one batch row per task: the sum runs over contiguous
// rows of C, an axpy the compiler vectorises.
void sum_tokens(float* out, const float* x, float scale, int64_t B, int64_t L, int64_t C) {
  parallel_for(B, std::max<int64_t>(1, (int64_t{1} << 14) / (L * C)), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* o = out + b * C;  // (C)
      std::fill(o, o + C, 0.0f);
      for (int64_t l = 0; l < L; ++l) {
        const float* xr = x + (b * L + l) * C;  // (C)
        for (int64_t c = 0; c < C; ++c) o[c] += xr[c];
      }
      for (int64_t c = 0; c < C; ++c) o[c] *= scale;
    }
  });
}

}  // namespace

void token_mean_forward(float* out, const float* x, int64_t B, int64_t L, int64_t C) {
  sum_tokens(out, x, 1.0f / static_cast<float>(L), B, L, C);
}

void token_mean_backward(float* dx, const float* dout, int64_t B, int64_t L, int64_t C) {
  const float scale = 1.0f / static_cast<float>(L);
  parallel_for(B * L, std::max<int64_t>(1, (int64_t{1} << 14) / C), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* g = dout + (t / L) * C;  // (C)
      float* o = dx + t * C;                // (C)
      for (int64_t c = 0; c < C; ++c) o[c] = g[c] * scale;
    }
  });
}

void broadcast_add_forward(float* out, const float* x, const float* s, int64_t B, int64_t L, int64_t C) {
  parallel_for(B * L, std::max<int64_t>(1, (int64_t{1} << 14) / C), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* sr = s + (t / L) * C;  // (C)
      const float* xr = x + t * C;        // (C)
      float* o = out + t * C;             // (C)
      for (int64_t c = 0; c < C; ++c) o[c] = xr[c] + sr[c];
    }
  });
}

void broadcast_add_backward(float* ds, const float* dout, int64_t B, int64_t L, int64_t C) {
  sum_tokens(ds, dout, 1.0f, B, L, C);
}

}  // namespace posapl
