#include "posapl/l2norm.h"

#include <algorithm>
#include <cmath>

#include "posapl/threadpool.h"

namespace posapl {

namespace {

// sum_{i<n} a[i] b[i] in double: rows are a few hundred wide and this op runs once per
// embedding, so exactness matters more than speed.
double dot(const float* a, const float* b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

int64_t row_grain(int64_t C) { return std::max<int64_t>(1, (int64_t{1} << 14) / C); }

}  // namespace

void l2norm_forward(float* out, const float* x, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;  // (C)
      float* yr = out + n * C;      // (C)
      const float denom = static_cast<float>(std::max(std::sqrt(dot(xr, xr, C)), double{kL2NormEps}));
      for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] / denom;
    }
  });
}

void l2norm_backward(float* dx, const float* dout, const float* x, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xr = x + n * C;     // (C)
      const float* dyr = dout + n * C;  // (C)
      float* dxr = dx + n * C;          // (C)
      const double norm = std::sqrt(dot(xr, xr, C));
      if (norm < kL2NormEps) {
        for (int64_t c = 0; c < C; ++c) dxr[c] = dyr[c] / kL2NormEps;
        continue;
      }
      const float inv = static_cast<float>(1.0 / norm);
      const float proj = static_cast<float>(dot(xr, dyr, C) / (norm * norm * norm));
      for (int64_t c = 0; c < C; ++c) dxr[c] = dyr[c] * inv - xr[c] * proj;
    }
  });
}

}  // namespace posapl
