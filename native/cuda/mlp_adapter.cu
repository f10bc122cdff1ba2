// The MLP adapter on the device: the CPU's GEMM sequence (native/cpu/mlp_adapter.cc) through
// cuda::gemm / cuda::bias_grad, plus one kernel for the ReLU mask. Saved and scratch layouts are
// those of posapl/mlp_adapter.h. Calls are qualified (cuda::gemm): Activation arguments would
// otherwise also find the CPU posapl::gemm by argument-dependent lookup.
#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

// dh = 0 where h is not > 0: h = ReLU(z) is > 0 exactly where z was, so h serves as the mask.
__global__ void relu_mask_kernel(float* dh, const float* h, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    if (!(h[i] > 0.0f)) dh[i] = 0.0f;
}

}  // namespace

void mlp_adapter_forward(float* out, float* saved, const float* x, const float* w1, const float* b1, const float* w2,
                         const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  const ExactFp32Scope exact;  // adapters and losses: exact fp32 (cuda_common.cuh)
  float* h = saved;  // (rows,R)
  cuda::gemm(false, true, rows, R, C, 1.0f, x, C, w1, C, 0.0f, h, R, b1, Activation::Relu, nullptr);
  cuda::gemm(false, true, rows, Cout, R, 1.0f, h, R, w2, R, 0.0f, out, Cout, b2, Activation::None, nullptr);
}

void mlp_adapter_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                          const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                          int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  const ExactFp32Scope exact;  // adapters and losses: exact fp32 (cuda_common.cuh)
  const float* h = saved;  // (rows,R)
  float* dh = scratch;     // (rows,R)
  // Linear2: dw2 += dout^T h, db2 += sum dout, dh = dout w2.
  cuda::gemm(true, false, Cout, R, rows, 1.0f, dout, Cout, h, R, 1.0f, dw2, R, nullptr, Activation::None, nullptr);
  cuda::bias_grad(db2, dout, rows, Cout, true);
  cuda::gemm(false, false, rows, R, Cout, 1.0f, dout, Cout, w2, R, 0.0f, dh, R, nullptr, Activation::None, nullptr);
  const int64_t n = rows * R;
  if (n > 0) {
    constexpr int threads = 256;
    relu_mask_kernel<<<grid_for(n, threads), threads, 0, stream()>>>(dh, h, n);
    POSAPL_CUDA_LAUNCHED("mlp_adapter relu_mask_kernel");
  }
  // Linear1.
  cuda::gemm(true, false, R, C, rows, 1.0f, dh, R, x, C, 1.0f, dw1, C, nullptr, Activation::None, nullptr);
  cuda::bias_grad(db1, dh, rows, R, true);
  if (dx != nullptr)
    cuda::gemm(false, false, rows, C, R, 1.0f, dh, R, w1, C, 0.0f, dx, C, nullptr, Activation::None, nullptr);
}

}  // namespace posapl::cuda
