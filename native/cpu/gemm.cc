#include "posapl/gemm.h"

namespace posapl {

// Until the packed SIMD kernels land, the fast path is the reference.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const float* bias, Activation act, float* pre) {
  gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, act, pre);
}

}  // namespace posapl
