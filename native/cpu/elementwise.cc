#include "posapl/elementwise.h"

#include "posapl/threadpool.h"

namespace posapl {

void axpy(float* y, const float* x, float alpha, int64_t n) {
  parallel_for(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] += alpha * x[i];
  });
}

void add(float* out, const float* a, const float* b, int64_t n) {
  parallel_for(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = a[i] + b[i];
  });
}

}  // namespace posapl
