// Single-precision GEMM with fused bias and activation, row-major.
//
//   C(M,N) = act( alpha * op(A) op(B) + beta * C + bias )      bias: (N) or null
//   op(A) is (M,K): A[m*lda + k], or with trans_a A[k*lda + m]
//   op(B) is (K,N): B[k*ldb + n], or with trans_b B[n*ldb + k]
//   pre (M,N, leading dim ldc) receives the value before the activation when not null
//
// A torch Linear y = x W^T + b with W (out,in) is gemm(false, true, rows, out, in, ...);
// its backward is dX = dY W (nn) and dW += dY^T X (tn, beta 1).
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const float* bias, Activation act, float* pre);

// The readable reference: the same contract, a plain triple loop with double accumulation.
// Tests check the fast path against it.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, const float* bias, Activation act, float* pre);

// db(N) (+)= column sums of dY(M,N): the bias gradient of a Linear.
void bias_grad(float* db, const float* dY, int64_t M, int64_t N, bool accumulate);

}  // namespace posapl
