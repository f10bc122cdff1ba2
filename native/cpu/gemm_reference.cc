#include "posapl/gemm.h"
#include "posapl/threadpool.h"

namespace posapl {

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, const float* bias, Activation act, float* pre) {
  parallel_for(M, 1, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0.0;
        for (int64_t k = 0; k < K; ++k) {
          const float a = trans_a ? A[k * lda + m] : A[m * lda + k];
          const float b = trans_b ? B[n * ldb + k] : B[k * ldb + n];
          acc += static_cast<double>(a) * b;
        }
        float v = static_cast<float>(alpha * acc);
        if (beta != 0.0f) v += beta * C[m * ldc + n];
        if (bias != nullptr) v += bias[n];
        if (pre != nullptr) pre[m * ldc + n] = v;
        C[m * ldc + n] = activate(act, v);
      }
    }
  });
}

// Rows outer, so each thread streams its columns of dY row by row (a column walk would touch
// a new cache line per element); each sum still runs over m in order.
void bias_grad(float* db, const float* dY, int64_t M, int64_t N, bool accumulate) {
  parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
    if (!accumulate)
      for (int64_t n = n0; n < n1; ++n) db[n] = 0.0f;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = n0; n < n1; ++n) db[n] += dY[m * N + n];
  });
}

}  // namespace posapl
