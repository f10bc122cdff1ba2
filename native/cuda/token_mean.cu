// The vision Side Fusion's token ops on the device (posapl/token_mean.h). Each output element is
// one thread's sequential sum over tokens, in the CPU's order, so the results match it exactly;
// threads run along C, so every load of a token row is coalesced.
#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

constexpr int kThreads = 256;

// out[b,c] = scale * sum_l x[b,l,c]
__global__ void sum_tokens_kernel(float* __restrict__ out, const float* __restrict__ x, float scale, int64_t B,
                                  int64_t L, int64_t C) {
  const int64_t total = B * C;
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t b = idx / C, c = idx % C;
    const float* xc = x + b * L * C + c;
    float acc = 0.0f;
    for (int64_t l = 0; l < L; ++l) acc += xc[l * C];
    out[idx] = acc * scale;
  }
}

// dx[b,l,c] = dout[b,c] * scale
__global__ void spread_tokens_kernel(float* __restrict__ dx, const float* __restrict__ dout, float scale, int64_t L,
                                     int64_t C, int64_t total) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = idx % C, b = idx / (L * C);
    dx[idx] = dout[b * C + c] * scale;
  }
}

// out[b,l,c] = x[b,l,c] + s[b,c]
__global__ void broadcast_add_kernel(float* __restrict__ out, const float* __restrict__ x,
                                     const float* __restrict__ s, int64_t L, int64_t C, int64_t total) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = idx % C, b = idx / (L * C);
    out[idx] = x[idx] + s[b * C + c];
  }
}

void sum_tokens(float* out, const float* x, float scale, int64_t B, int64_t L, int64_t C) {
  if (B * C == 0) return;
  sum_tokens_kernel<<<grid_for(B * C, kThreads), kThreads, 0, stream()>>>(out, x, scale, B, L, C);
  POSAPL_CUDA_LAUNCHED("sum_tokens_kernel");
}

}  // namespace

void token_mean_forward(float* out, const float* x, int64_t B, int64_t L, int64_t C) {
  sum_tokens(out, x, 1.0f / static_cast<float>(L), B, L, C);
}

void token_mean_backward(float* dx, const float* dout, int64_t B, int64_t L, int64_t C) {
  const int64_t total = B * L * C;
  if (total == 0) return;
  spread_tokens_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(dx, dout, 1.0f / static_cast<float>(L),
                                                                             L, C, total);
  POSAPL_CUDA_LAUNCHED("spread_tokens_kernel");
}

void broadcast_add_forward(float* out, const float* x, const float* s, int64_t B, int64_t L, int64_t C) {
  const int64_t total = B * L * C;
  if (total == 0) return;
  broadcast_add_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(out, x, s, L, C, total);
  POSAPL_CUDA_LAUNCHED("broadcast_add_kernel");
}

void broadcast_add_backward(float* ds, const float* dout, int64_t B, int64_t L, int64_t C) {
  sum_tokens(ds, dout, 1.0f, B, L, C);
}

}  // namespace posapl::cuda
