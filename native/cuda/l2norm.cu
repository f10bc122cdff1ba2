// L2 normalisation of rows on the device (posapl/l2norm.h), one warp per row. The sums run in
// double like the CPU's, so the two agree to float rounding; these rows are a few hundred wide
// and the op runs once per embedding, so the FP64 cost does not matter.
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/l2norm.h"
#include "warp_reduce.cuh"

namespace posapl::cuda {

namespace {

__global__ void l2norm_forward_kernel(float* __restrict__ out, const float* __restrict__ x, int64_t N, int64_t C) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t{gridDim.x} * kRowsPerBlock;
  for (int64_t n = blockIdx.x * int64_t{kRowsPerBlock} + (threadIdx.x >> 5); n < N; n += warps) {
    const float* xr = x + n * C;
    double ss = 0.0;
    for (int64_t c = lane; c < C; c += 32) ss += static_cast<double>(xr[c]) * xr[c];
    ss = warp_sum(ss);
    const float denom = static_cast<float>(fmax(sqrt(ss), static_cast<double>(kL2NormEps)));
    float* yr = out + n * C;
    for (int64_t c = lane; c < C; c += 32) yr[c] = xr[c] / denom;
  }
}

__global__ void l2norm_backward_kernel(float* __restrict__ dx, const float* __restrict__ dout,
                                       const float* __restrict__ x, int64_t N, int64_t C) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t{gridDim.x} * kRowsPerBlock;
  for (int64_t n = blockIdx.x * int64_t{kRowsPerBlock} + (threadIdx.x >> 5); n < N; n += warps) {
    const float* xr = x + n * C;
    const float* dyr = dout + n * C;
    float* dxr = dx + n * C;
    double ss = 0.0, xd = 0.0;
    for (int64_t c = lane; c < C; c += 32) {
      ss += static_cast<double>(xr[c]) * xr[c];
      xd += static_cast<double>(xr[c]) * dyr[c];
    }
    ss = warp_sum(ss);
    xd = warp_sum(xd);
    const double norm = sqrt(ss);
    if (norm < kL2NormEps) {  // the clamp passes no gradient to the norm
      for (int64_t c = lane; c < C; c += 32) dxr[c] = dyr[c] / kL2NormEps;
      continue;
    }
    const float inv = static_cast<float>(1.0 / norm);
    const float proj = static_cast<float>(xd / (norm * norm * norm));
    for (int64_t c = lane; c < C; c += 32) dxr[c] = dyr[c] * inv - xr[c] * proj;
  }
}

}  // namespace

void l2norm_forward(float* out, const float* x, int64_t N, int64_t C) {
  if (N == 0) return;
  l2norm_forward_kernel<<<grid_for(N, kRowsPerBlock), kRowThreads, 0, stream()>>>(out, x, N, C);
  POSAPL_CUDA_LAUNCHED("l2norm_forward_kernel");
}

void l2norm_backward(float* dx, const float* dout, const float* x, int64_t N, int64_t C) {
  if (N == 0) return;
  l2norm_backward_kernel<<<grid_for(N, kRowsPerBlock), kRowThreads, 0, stream()>>>(dx, dout, x, N, C);
  POSAPL_CUDA_LAUNCHED("l2norm_backward_kernel");
}

}  // namespace posapl::cuda
