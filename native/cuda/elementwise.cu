// activation_backward, axpy and add on the device (posapl/activations.h, posapl/elementwise.h):
// grid-stride loops, each element read and written by one thread, so dx may be dy and out may
// be a or b (every element is read before it is written).
#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

constexpr int kThreads = 256;

// d/dx [x Phi(x)] = Phi(x) + x phi(x), the exact-erf form of posapl::gelu_grad.
__device__ __forceinline__ float gelu_grad_device(float x) {
  const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
  const float pdf = 0.3989422804014327f * expf(-0.5f * x * x);
  return cdf + x * pdf;
}

__global__ void activation_backward_kernel(Activation act, float* dx, const float* dy, const float* pre, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    switch (act) {
      case Activation::Relu: dx[i] = pre[i] > 0.0f ? dy[i] : 0.0f; break;
      case Activation::Gelu: dx[i] = dy[i] * gelu_grad_device(pre[i]); break;
      default: dx[i] = dy[i]; break;
    }
  }
}

__global__ void axpy_kernel(float* y, const float* x, float alpha, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] += alpha * x[i];
}

__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

}  // namespace

void activation_backward(Activation act, float* dx, const float* dy, const float* pre, int64_t n) {
  if (n <= 0) return;
  activation_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(act, dx, dy, pre, n);
  POSAPL_CUDA_LAUNCHED("activation_backward_kernel");
}

void axpy(float* y, const float* x, float alpha, int64_t n) {
  if (n <= 0) return;
  axpy_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(y, x, alpha, n);
  POSAPL_CUDA_LAUNCHED("axpy_kernel");
}

void add(float* out, const float* a, const float* b, int64_t n) {
  if (n <= 0) return;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(out, a, b, n);
  POSAPL_CUDA_LAUNCHED("add_kernel");
}

}  // namespace posapl::cuda
