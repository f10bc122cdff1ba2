#include "step_ops.h"

#include "cuda_common.cuh"

namespace posapl::cuda {

namespace {
// Rows run over blockIdx.y and the C columns over x, both grid-stride, so threads of a warp read
// neighbouring columns and no per-element index is divided.
constexpr int kThreads = 128;

dim3 row_grid(int64_t rows, int64_t C) {
  return dim3(grid_for(C, kThreads), static_cast<unsigned>(rows < 65535 ? rows : 65535));
}

// out (G,C) (+)= scale * sum over the P rows of x (G,P,C): one thread per output element, its
// rows summed in order.
__global__ void group_sum_kernel(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale,
                                 bool accumulate) {
  for (int64_t g = blockIdx.y; g < G; g += gridDim.y)
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const float* r = x + g * P * C + c;
      float acc = accumulate ? out[g * C + c] : 0.0f;
      for (int64_t p = 0; p < P; ++p) acc += scale * r[p * C];
      out[g * C + c] = acc;
    }
}

// out (G,P,C) = x (G,P,C) + scale * s (G,C) broadcast over P; x may be null (then out is the
// broadcast alone).
__global__ void add_broadcast_kernel(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P,
                                     int64_t C) {
  for (int64_t row = blockIdx.y; row < G * P; row += gridDim.y) {
    const float* s_row = s + (row / P) * C;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t i = row * C + c;
      out[i] = (x != nullptr ? x[i] : 0.0f) + scale * s_row[c];
    }
  }
}

// dpre (G,P,C) = ds (G,C) / P broadcast over P where h > 0 (the ReLU was open), else 0.
__global__ void relu_spread_kernel(float* dpre, const float* ds, const float* h, float scale, int64_t G, int64_t P,
                                   int64_t C) {
  for (int64_t row = blockIdx.y; row < G * P; row += gridDim.y) {
    const float* ds_row = ds + (row / P) * C;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t i = row * C + c;
      dpre[i] = h[i] > 0.0f ? ds_row[c] * scale : 0.0f;
    }
  }
}

// dh = 0 where h is not > 0: h = ReLU(z) is > 0 exactly where z was, so h serves as the mask.
__global__ void relu_mask_kernel(float* dh, const float* h, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    if (!(h[i] > 0.0f)) dh[i] = 0.0f;
}

}  // namespace

void CudaStepOps::copy(float* dst, const float* src, int64_t n) {
  if (n > 0)
    POSAPL_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToDevice, stream()));
}

void CudaStepOps::relu_mask(float* dh, const float* h, int64_t n) {
  if (n <= 0) return;
  constexpr int threads = 256;
  relu_mask_kernel<<<grid_for(n, threads), threads, 0, stream()>>>(dh, h, n);
  POSAPL_CUDA_LAUNCHED("relu_mask_kernel");
}

void CudaStepOps::group_sum(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale, bool accumulate) {
  if (G <= 0 || C <= 0) return;
  group_sum_kernel<<<row_grid(G, C), kThreads, 0, stream()>>>(out, x, G, P, C, scale, accumulate);
  POSAPL_CUDA_LAUNCHED("side_fusion group_sum_kernel");
}

void CudaStepOps::add_broadcast(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P,
                                int64_t C) {
  if (G * P <= 0 || C <= 0) return;
  add_broadcast_kernel<<<row_grid(G * P, C), kThreads, 0, stream()>>>(out, x, s, scale, G, P, C);
  POSAPL_CUDA_LAUNCHED("side_fusion add_broadcast_kernel");
}

void CudaStepOps::relu_spread(float* dpre, const float* ds, const float* h, int64_t G, int64_t P, int64_t C) {
  if (G * P <= 0 || C <= 0) return;
  const float scale = 1.0f / static_cast<float>(P);
  relu_spread_kernel<<<row_grid(G * P, C), kThreads, 0, stream()>>>(dpre, ds, h, scale, G, P, C);
  POSAPL_CUDA_LAUNCHED("side_fusion relu_spread_kernel");
}


}  // namespace posapl::cuda
