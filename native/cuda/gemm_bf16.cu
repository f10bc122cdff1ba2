// The bf16 GEMM of the frozen backbone on the device (posapl/gemm_bf16.h has the contract):
// op(B) is packed once to bf16, A is rounded to bf16 as it is read (its activation applied first),
// cuBLAS multiplies bf16 by bf16 with fp32 accumulation into the fp32 C, and one epilogue kernel
// adds bias and residual, keeps `pre` and applies the activation.
//
// The packed layout here is op(B) as a row-major (K,N) bf16 matrix (leading dimension N), which
// is column-major (N,K) = op(B)^T: cuBLAS's first operand for the row-major C^T = op(B)^T A^T.
// It uses the first K*N of the bf16_packed_size(K,N) elements the CPU's tile layout asks for; the
// rest is zeroed.
#include <cuda_bf16.h>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/gemm_bf16.h"

namespace posapl::cuda {

namespace {

__device__ __forceinline__ float activate_device(Activation act, float x) {
  switch (act) {
    case Activation::Relu: return x > 0.0f ? x : 0.0f;
    case Activation::Gelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default: return x;
  }
}

__device__ __forceinline__ uint16_t to_bf16(float x) {
  return __bfloat16_as_ushort(__float2bfloat16_rn(x));
}

__global__ void pack_kernel(uint16_t* packed, const float* B, int64_t K, int64_t N, bool trans) {
  const int64_t total = K * N;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t k = i / N, n = i - k * N;
    packed[i] = to_bf16(trans ? B[n * K + k] : B[k * N + n]);
  }
}

// a16 (M,K) = bf16(act(A)), A with leading dimension lda.
__global__ void round_rows_kernel(uint16_t* a16, const float* A, int64_t lda, int64_t M, int64_t K, Activation act) {
  const int64_t total = M * K;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t m = i / K, k = i - m * K;
    a16[i] = to_bf16(activate_device(act, A[m * lda + k]));
  }
}

// v = C (cuBLAS's alpha A B + beta C) + bias + residual; pre = v; C = act(v).
__global__ void epilogue_kernel(float* C, int64_t ldc, float* pre, const float* bias, const float* residual,
                                Activation act, int64_t M, int64_t N) {
  const int64_t total = M * N;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t m = i / N, n = i - m * N;
    const int64_t at = m * ldc + n;
    float v = C[at];
    if (bias != nullptr) v += bias[n];
    if (residual != nullptr) v += residual[at];
    if (pre != nullptr) pre[at] = v;
    C[at] = activate_device(act, v);
  }
}

constexpr int kThreads = 256;

}  // namespace

void bf16_pack(uint16_t* packed, const float* B, int64_t K, int64_t N, bool trans) {
  POSAPL_CUDA_CHECK(cudaMemsetAsync(packed, 0, static_cast<size_t>(bf16_packed_size(K, N)) * sizeof(uint16_t), stream()));
  pack_kernel<<<grid_for(K * N, kThreads), kThreads, 0, stream()>>>(packed, B, K, N, trans);
  POSAPL_CUDA_LAUNCHED("bf16_pack");
}

void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed, float* C,
               int64_t ldc, const Bf16Epilogue& ep) {
  if (M <= 0 || N <= 0 || K <= 0) {
    // The CPU kernels need K >= 1 too (the binding's dims are >= 1): nothing reaches here.
    return;
  }
  const int m = cublas_int(N, "N"), n = cublas_int(M, "M"), k = cublas_int(K, "K");
  auto* a16 = static_cast<uint16_t*>(scratch(ScratchSlot::Gemm, static_cast<size_t>(M * K) * sizeof(uint16_t)));
  round_rows_kernel<<<grid_for(M * K, kThreads), kThreads, 0, stream()>>>(a16, A, lda, M, K, ep.a_act);
  POSAPL_CUDA_LAUNCHED("gemm_bf16 round_rows");
  cublas_gemm_ex(false, false, m, n, k, ep.alpha, packed, CUDA_R_16BF, m, a16, CUDA_R_16BF, k, ep.beta, C,
                 cublas_int(ldc, "ldc"), false);
  if (ep.bias == nullptr && ep.residual == nullptr && ep.pre == nullptr && ep.act == Activation::None) return;
  epilogue_kernel<<<grid_for(M * N, kThreads), kThreads, 0, stream()>>>(C, ldc, ep.pre, ep.bias, ep.residual, ep.act, M, N);
  POSAPL_CUDA_LAUNCHED("gemm_bf16 epilogue");
}

}  // namespace posapl::cuda
