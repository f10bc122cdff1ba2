// The text tower's EOT row moves, the id check of the embedding and plain fills, on the device.
#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

// One thread per row: the first position of the largest id (the EOT token has the largest id).
__global__ void argmax_rows_kernel(int32_t* out, const int32_t* ids, int64_t n, int64_t l) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int32_t* row = ids + i * l;
    int64_t best = 0;
    for (int64_t j = 1; j < l; ++j)
      if (row[j] > row[best]) best = j;
    out[i] = static_cast<int32_t>(best);
  }
}

// out (n,c) = x[i, index[i], :]; an index outside [0,l) (never made by argmax_rows; the binding
// checks indexes it is given) writes zeros rather than reading out of bounds.
__global__ void gather_rows_kernel(float* out, const float* x, const int32_t* index, int64_t n, int64_t l, int64_t c) {
  const int64_t total = n * c;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < total; k += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = k / c, j = k % c;
    const int32_t at = index[i];
    out[k] = at >= 0 && at < l ? x[(i * l + at) * c + j] : 0.0f;
  }
}

// dx (n,l,c): row index[i] of sample i = rows[i] (or += with accumulate); other rows zero when
// not accumulating.
__global__ void scatter_rows_kernel(float* dx, const float* rows, const int32_t* index, int64_t n, int64_t l,
                                    int64_t c, bool accumulate) {
  const int64_t total = n * l * c;
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < total; k += int64_t{gridDim.x} * blockDim.x) {
    const int64_t j = k % c, t = k / c, i = t / l, p = t % l;
    const bool hit = index[i] == p;
    if (accumulate) {
      if (hit) dx[k] += rows[i * c + j];
    } else {
      dx[k] = hit ? rows[i * c + j] : 0.0f;
    }
  }
}

__global__ void fill_u32_kernel(uint32_t* dst, uint32_t bits, int64_t n) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n; k += int64_t{gridDim.x} * blockDim.x)
    dst[k] = bits;
}

// The smallest k with ids[k] outside [0, vocab), by atomicMin on a device int64 (n if none).
__global__ void first_invalid_kernel(unsigned long long* first, const int32_t* ids, int64_t count, int64_t vocab) {
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < count; k += int64_t{gridDim.x} * blockDim.x)
    if (ids[k] < 0 || ids[k] >= vocab) atomicMin(first, static_cast<unsigned long long>(k));
}

constexpr int kThreads = 256;

}  // namespace

void argmax_rows(int32_t* out, const int32_t* ids, int64_t n, int64_t l) {
  argmax_rows_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(out, ids, n, l);
  POSAPL_CUDA_LAUNCHED("argmax_rows");
}

void gather_rows(float* out, const float* x, const int32_t* index, int64_t n, int64_t l, int64_t c) {
  gather_rows_kernel<<<grid_for(n * c, kThreads), kThreads, 0, stream()>>>(out, x, index, n, l, c);
  POSAPL_CUDA_LAUNCHED("gather_rows");
}

void scatter_rows(float* dx, const float* rows, const int32_t* index, int64_t n, int64_t l, int64_t c, bool accumulate) {
  scatter_rows_kernel<<<grid_for(n * l * c, kThreads), kThreads, 0, stream()>>>(dx, rows, index, n, l, c, accumulate);
  POSAPL_CUDA_LAUNCHED("scatter_rows");
}

void fill_u32(uint32_t* dst, uint32_t bits, int64_t n) {
  if (n == 0) return;
  fill_u32_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(dst, bits, n);
  POSAPL_CUDA_LAUNCHED("fill_u32");
}

int64_t embedding_first_invalid_id(const int32_t* ids, int64_t count, int64_t vocab) {
  if (count == 0) return -1;
  auto* first = static_cast<unsigned long long*>(scratch(ScratchSlot::Op, sizeof(unsigned long long)));
  const unsigned long long none = static_cast<unsigned long long>(count);
  POSAPL_CUDA_CHECK(cudaMemcpyAsync(first, &none, sizeof none, cudaMemcpyHostToDevice, stream()));
  first_invalid_kernel<<<grid_for(count, kThreads), kThreads, 0, stream()>>>(first, ids, count, vocab);
  POSAPL_CUDA_LAUNCHED("first_invalid_id");
  unsigned long long found = none;
  POSAPL_CUDA_CHECK(cudaMemcpyAsync(&found, first, sizeof found, cudaMemcpyDeviceToHost, stream()));
  POSAPL_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return found >= none ? -1 : static_cast<int64_t>(found);
}

}  // namespace posapl::cuda
