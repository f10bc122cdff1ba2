// Token-embedding gather on the device (posapl/embedding.h):
//   out[n,l,:] = table[ids[n,l], :] (+ positional[l, :])
// The binding checks ids against the vocabulary before calling (embedding_first_invalid_id);
// this signature has no vocabulary size, so the kernel can only guard the lower bound: a
// negative id writes a row of NaN (loud downstream) instead of reading before the table.
#include <cmath>

#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

constexpr int kThreads = 256;

__global__ void embedding_forward_kernel(float* __restrict__ out, const int32_t* __restrict__ ids,
                                         const float* __restrict__ table, const float* __restrict__ positional,
                                         int64_t L, int64_t C, int64_t total) {
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = idx / C, c = idx % C;  // token (n*L + l), column
    const int32_t id = ids[t];
    if (id < 0) {
      out[idx] = nanf("");
      continue;
    }
    float v = table[static_cast<int64_t>(id) * C + c];
    if (positional != nullptr) v += positional[(t % L) * C + c];
    out[idx] = v;
  }
}

}  // namespace

void embedding_forward(float* out, const int32_t* ids, const float* table, const float* positional, int64_t N,
                       int64_t L, int64_t C) {
  const int64_t total = N * L * C;
  if (total == 0) return;
  embedding_forward_kernel<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(out, ids, table, positional, L, C,
                                                                                 total);
  POSAPL_CUDA_LAUNCHED("embedding_forward_kernel");
}

}  // namespace posapl::cuda
