#include "posapl/layernorm.h"

#include <algorithm>
#include <cmath>

#include "posapl/threadpool.h"

namespace posapl {

namespace {

// sum_{i<n} term(i) over 16 independent partial sums: unlike one running sum, the compiler may
// vectorise this without -ffast-math, and the rounding error grows with n/16 rather than n.
template <class Term>
inline float lane_sum(int64_t n, Term term) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 16; ++k) acc[k] += term(i + k);
  float tail = 0.0f;
  for (; i < n; ++i) tail += term(i);
  for (int k = 0; k < 16; ++k) tail += acc[k];
  return tail;
}

// Rows per thread chunk: about 16K elements, so that small inputs stay on one thread.
int64_t row_grain(int64_t C) { return std::max<int64_t>(1, (int64_t{1} << 14) / C); }

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                       const float* bias, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;  // (C)
      float* yr = out + n * C;      // (C)
      // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
      const float m = lane_sum(C, [&](int64_t c) { return xr[c]; }) / static_cast<float>(C);
      const float var = lane_sum(C, [&](int64_t c) { return (xr[c] - m) * (xr[c] - m); }) / static_cast<float>(C);
      const float s = 1.0f / std::sqrt(var + kLayerNormEps);
      for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) * s * weight[c] + bias[c];
      if (mean != nullptr) mean[n] = m;
      if (rstd != nullptr) rstd[n] = s;
    }
  });
}

void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C) {
  // With xhat = (x - mean) rstd and g = dout * weight:
  //   dx = rstd (g - mean_c(g) - xhat mean_c(g xhat))
  parallel_for(N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;     // (C)
      const float* dyr = dout + n * C;  // (C)
      float* dxr = dx + n * C;          // (C)
      const float m = mean[n], s = rstd[n];
      const float g_mean = lane_sum(C, [&](int64_t c) { return dyr[c] * weight[c]; }) / static_cast<float>(C);
      const float gx_mean =
          lane_sum(C, [&](int64_t c) { return dyr[c] * weight[c] * (xr[c] - m) * s; }) / static_cast<float>(C);
      for (int64_t c = 0; c < C; ++c) {
        const float xhat = (xr[c] - m) * s;
        dxr[c] = s * (dyr[c] * weight[c] - g_mean - xhat * gx_mean);
      }
    }
  });
  if (dweight == nullptr && dbias == nullptr) return;

  // Parameter gradients are sums over rows: split the columns instead of the rows, so each
  // thread owns its slice of dweight/dbias and the result does not depend on the thread count.
  constexpr int64_t kCols = 64;
  const int64_t blocks = (C + kCols - 1) / kCols;
  parallel_for(blocks, std::max<int64_t>(1, 256 / N), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t c0 = b * kCols, width = std::min(kCols, C - c0);
      float dw[kCols] = {}, db[kCols] = {};
      for (int64_t n = 0; n < N; ++n) {
        const float* xr = x + n * C + c0;     // (width)
        const float* dyr = dout + n * C + c0;  // (width)
        const float m = mean[n], s = rstd[n];
        for (int64_t c = 0; c < width; ++c) {
          dw[c] += dyr[c] * (xr[c] - m) * s;
          db[c] += dyr[c];
        }
      }
      if (dweight != nullptr)
        for (int64_t c = 0; c < width; ++c) dweight[c0 + c] += dw[c];
      if (dbias != nullptr)
        for (int64_t c = 0; c < width; ++c) dbias[c0 + c] += db[c];
    }
  });
}

}  // namespace posapl
