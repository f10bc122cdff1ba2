// LayerNorm on the device (posapl/layernorm.h). Rows: one warp each, two passes (mean, then
// squared deviations) as on the CPU, so no E[x^2] - E[x]^2 cancellation. The parameter
// gradients are column sums over rows; they are reduced in two fixed-order stages (per-chunk
// partial sums into the op scratch, then one pass over the chunks) instead of float atomics, so
// a training step gives the same bits every run.
#include <algorithm>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/layernorm.h"
#include "warp_reduce.cuh"

namespace posapl::cuda {

namespace {

__global__ void layernorm_forward_kernel(float* __restrict__ out, float* __restrict__ mean, float* __restrict__ rstd,
                                         const float* __restrict__ x, const float* __restrict__ weight,
                                         const float* __restrict__ bias, int64_t N, int64_t C) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t{gridDim.x} * kRowsPerBlock;
  const float inv_c = 1.0f / static_cast<float>(C);
  for (int64_t n = blockIdx.x * int64_t{kRowsPerBlock} + (threadIdx.x >> 5); n < N; n += warps) {
    const float* xr = x + n * C;
    float s = 0.0f;
    for (int64_t c = lane; c < C; c += 32) s += xr[c];
    const float m = warp_sum(s) * inv_c;
    float v = 0.0f;
    for (int64_t c = lane; c < C; c += 32) {
      const float d = xr[c] - m;
      v += d * d;
    }
    const float r = 1.0f / sqrtf(warp_sum(v) * inv_c + kLayerNormEps);
    float* yr = out + n * C;
    for (int64_t c = lane; c < C; c += 32) yr[c] = (xr[c] - m) * r * weight[c] + bias[c];
    if (lane == 0) {
      if (mean != nullptr) mean[n] = m;
      if (rstd != nullptr) rstd[n] = r;
    }
  }
}

// dx = rstd (g - mean_c(g) - xhat mean_c(g xhat)),  g = dout * weight, xhat = (x - mean) rstd
__global__ void layernorm_dx_kernel(float* __restrict__ dx, const float* __restrict__ dout,
                                    const float* __restrict__ x, const float* __restrict__ weight,
                                    const float* __restrict__ mean, const float* __restrict__ rstd, int64_t N,
                                    int64_t C) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t{gridDim.x} * kRowsPerBlock;
  const float inv_c = 1.0f / static_cast<float>(C);
  for (int64_t n = blockIdx.x * int64_t{kRowsPerBlock} + (threadIdx.x >> 5); n < N; n += warps) {
    const float* xr = x + n * C;
    const float* dyr = dout + n * C;
    const float m = mean[n], r = rstd[n];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int64_t c = lane; c < C; c += 32) {
      const float g = dyr[c] * weight[c];
      g_sum += g;
      gx_sum += g * (xr[c] - m) * r;
    }
    const float g_mean = warp_sum(g_sum) * inv_c;
    const float gx_mean = warp_sum(gx_sum) * inv_c;
    float* dxr = dx + n * C;
    for (int64_t c = lane; c < C; c += 32) {
      const float xhat = (xr[c] - m) * r;
      dxr[c] = r * (dyr[c] * weight[c] - g_mean - xhat * gx_mean);
    }
  }
}

// Stage 1 of dweight/dbias: block (32, kParamRows) covers 32 columns of one chunk of rows;
// partial[chunk][c] (dweight) and partial[chunks + chunk][c] (dbias). Columns run along the
// warp, so every row read is coalesced.
constexpr int kParamRows = 8;

__global__ void layernorm_param_partial_kernel(float* __restrict__ partial, const float* __restrict__ dout,
                                               const float* __restrict__ x, const float* __restrict__ mean,
                                               const float* __restrict__ rstd, int64_t N, int64_t C,
                                               int64_t rows_per_chunk, int64_t chunks) {
  __shared__ float dw_s[kParamRows][33];
  __shared__ float db_s[kParamRows][33];
  const int64_t c = blockIdx.x * int64_t{32} + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  const int64_t n0 = chunk * rows_per_chunk, n1 = min(N, n0 + rows_per_chunk);
  float dw = 0.0f, db = 0.0f;
  if (c < C) {
    for (int64_t n = n0 + threadIdx.y; n < n1; n += kParamRows) {
      const float dy = dout[n * C + c];
      dw += dy * (x[n * C + c] - mean[n]) * rstd[n];
      db += dy;
    }
  }
  dw_s[threadIdx.y][threadIdx.x] = dw;
  db_s[threadIdx.y][threadIdx.x] = db;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    for (int k = 1; k < kParamRows; ++k) {
      dw += dw_s[k][threadIdx.x];
      db += db_s[k][threadIdx.x];
    }
    partial[chunk * C + c] = dw;
    partial[(chunks + chunk) * C + c] = db;
  }
}

// Stage 2: dweight[c] += sum over chunks, dbias likewise, in chunk order.
__global__ void layernorm_param_reduce_kernel(float* __restrict__ dweight, float* __restrict__ dbias,
                                              const float* __restrict__ partial, int64_t C, int64_t chunks) {
  for (int64_t c = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; c < C; c += int64_t{gridDim.x} * blockDim.x) {
    float dw = 0.0f, db = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      dw += partial[k * C + c];
      db += partial[(chunks + k) * C + c];
    }
    if (dweight != nullptr) dweight[c] += dw;
    if (dbias != nullptr) dbias[c] += db;
  }
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                       int64_t N, int64_t C) {
  if (N == 0) return;
  layernorm_forward_kernel<<<grid_for(N, kRowsPerBlock), kRowThreads, 0, stream()>>>(out, mean, rstd, x, weight, bias,
                                                                                     N, C);
  POSAPL_CUDA_LAUNCHED("layernorm_forward_kernel");
}

void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C) {
  if (N == 0) return;
  layernorm_dx_kernel<<<grid_for(N, kRowsPerBlock), kRowThreads, 0, stream()>>>(dx, dout, x, weight, mean, rstd, N,
                                                                                C);
  POSAPL_CUDA_LAUNCHED("layernorm_dx_kernel");
  if ((dweight == nullptr && dbias == nullptr) || C == 0) return;

  // Enough chunks of rows to fill the GPU (about 1,000 blocks in all), at least 32 rows each.
  const int64_t col_blocks = (C + 31) / 32;
  const int64_t want = std::max<int64_t>(1, 1024 / col_blocks);
  const int64_t chunks = std::min<int64_t>({want, (N + 31) / 32, 65535});
  const int64_t rows_per_chunk = (N + chunks - 1) / chunks;
  if (col_blocks > 0x7fffffffLL)
    throw BackendError("POSAPL_SHAPE", "posapl: CUDA layernorm_backward: C = " + std::to_string(C) + " is too large");
  float* partial = static_cast<float*>(scratch(ScratchSlot::Op, sizeof(float) * 2 * chunks * C));
  const dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(chunks));
  layernorm_param_partial_kernel<<<grid, dim3(32, kParamRows), 0, stream()>>>(partial, dout, x, mean, rstd, N, C,
                                                                              rows_per_chunk, chunks);
  POSAPL_CUDA_LAUNCHED("layernorm_param_partial_kernel");
  layernorm_param_reduce_kernel<<<grid_for(C, 256), 256, 0, stream()>>>(dweight, dbias, partial, C, chunks);
  POSAPL_CUDA_LAUNCHED("layernorm_param_reduce_kernel");
}

}  // namespace posapl::cuda
