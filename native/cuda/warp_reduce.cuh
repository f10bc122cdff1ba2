// Warp-wide reductions by butterfly shuffles: every lane ends with the result, and the order of
// the additions is fixed, so results do not vary from run to run. Include from .cu files only.
#pragma once

namespace posapl::cuda {

constexpr unsigned kFullWarp = 0xffffffffu;

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = max(v, __shfl_xor_sync(kFullWarp, v, offset));
  return v;
}

// Launch sizing for the one-warp-per-row kernels.
constexpr int kRowThreads = 256;
constexpr int kRowsPerBlock = kRowThreads / 32;

}  // namespace posapl::cuda
