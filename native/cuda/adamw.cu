// adamw_update on the device (posapl/adamw.h): every tensor in ONE launch. The per-tensor
// pointers and a prefix sum of the sizes go to a small device table (ScratchSlot::AdamW); one
// grid-stride kernel walks the flat index space of all elements and finds each element's tensor
// by binary search over the prefix sums. The float operations follow native/cpu/adamw.cc (built
// without FMA contraction) with explicitly rounded intrinsics, so nvcc cannot fuse them.
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

struct TensorEntry {
  float* p;
  float* m;
  float* v;
  const float* g;
};

struct Scalars {
  float b1, one_minus_b1, b2, one_minus_b2, eps, neg_step, neg_decay;
  bool decay;
};

// The table's host side: the bytes last uploaded (a step with the same tensors uploads nothing)
// and a pinned staging buffer that an upload copies from asynchronously. `copied` is recorded
// after each upload; the staging buffer is rewritten only once it has passed.
class TableUploader {
 public:
  // Returns the device table for `bytes` (entries then count+1 starts), uploading it if it
  // changed since the last call.
  const unsigned char* upload(const std::vector<unsigned char>& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto* device = static_cast<unsigned char*>(scratch(ScratchSlot::AdamW, bytes.size()));
    if (device == last_device_ && bytes == last_) return device;
    if (copied_ == nullptr) POSAPL_CUDA_CHECK(cudaEventCreateWithFlags(&copied_, cudaEventDisableTiming));
    POSAPL_CUDA_CHECK(cudaEventSynchronize(copied_));  // the previous upload has left the staging buffer
    if (staging_bytes_ < bytes.size()) {
      if (staging_ != nullptr) POSAPL_CUDA_CHECK(cudaFreeHost(staging_));
      staging_ = nullptr;
      staging_bytes_ = 0;
      POSAPL_CUDA_CHECK(cudaHostAlloc(&staging_, bytes.size(), cudaHostAllocDefault));
      staging_bytes_ = bytes.size();
    }
    std::memcpy(staging_, bytes.data(), bytes.size());
    last_device_ = nullptr;  // until the copy is enqueued
    POSAPL_CUDA_CHECK(cudaMemcpyAsync(device, staging_, bytes.size(), cudaMemcpyHostToDevice, stream()));
    POSAPL_CUDA_CHECK(cudaEventRecord(copied_, stream()));
    last_ = bytes;
    last_device_ = device;
    return device;
  }

 private:
  std::mutex mutex_;
  std::vector<unsigned char> last_;
  const unsigned char* last_device_ = nullptr;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
  cudaEvent_t copied_ = nullptr;
};

// The tensor holding flat index i: the largest k in [lo, count) with starts[k] <= i (tensors
// of size 0 share their start with the next one, so the largest is the one that has i).
__device__ __forceinline__ int64_t find_tensor(const int64_t* __restrict__ starts, int64_t lo, int64_t count,
                                               int64_t i) {
  int64_t hi = count - 1;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (__ldg(starts + mid) <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

__global__ void adamw_kernel(const TensorEntry* __restrict__ entries, const int64_t* __restrict__ starts,
                             int64_t count, int64_t total, Scalars s) {
  int64_t k = 0;  // a thread's indices only grow, so its search starts at its last tensor
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    k = find_tensor(starts, k, count, i);
    const TensorEntry e = entries[k];
    const int64_t j = i - __ldg(starts + k);
    const float g = e.g[j];
    // m = m b1 + (1-b1) g;  v = v b2 + ((1-b2) g) g  (the CPU's left-to-right order)
    const float m = __fadd_rn(__fmul_rn(e.m[j], s.b1), __fmul_rn(s.one_minus_b1, g));
    const float v = __fadd_rn(__fmul_rn(e.v[j], s.b2), __fmul_rn(__fmul_rn(s.one_minus_b2, g), g));
    e.m[j] = m;
    e.v[j] = v;
    const float denom = __fadd_rn(__fsqrt_rn(v), s.eps);
    float p = __fadd_rn(e.p[j], __fdiv_rn(__fmul_rn(s.neg_step, m), denom));
    if (s.decay) p = __fadd_rn(p, __fmul_rn(s.neg_decay, p));
    e.p[j] = p;
  }
}

}  // namespace

void adamw_update(float* const* params, float* const* exp_avg, float* const* exp_avg_sq, const float* const* grads,
                  const int64_t* sizes, int64_t count, const AdamWOptions& options) {
  if (count <= 0) return;
  // The table, built on the host: count entries, then count+1 starts (8-byte aligned: an entry
  // is four pointers).
  static_assert(sizeof(TensorEntry) % sizeof(int64_t) == 0, "starts must stay aligned");
  const size_t entries_bytes = static_cast<size_t>(count) * sizeof(TensorEntry);
  const size_t bytes = entries_bytes + static_cast<size_t>(count + 1) * sizeof(int64_t);
  static thread_local std::vector<unsigned char> table;
  table.resize(bytes);
  auto* entries = reinterpret_cast<TensorEntry*>(table.data());
  auto* starts = reinterpret_cast<int64_t*>(table.data() + entries_bytes);
  starts[0] = 0;
  for (int64_t k = 0; k < count; ++k) {
    entries[k] = TensorEntry{params[k], exp_avg[k], exp_avg_sq[k], grads[k]};
    starts[k + 1] = starts[k] + sizes[k];
  }
  const int64_t total = starts[count];
  if (total <= 0) return;

  // The scalars exactly as the CPU makes them: the bias-corrected step size in double, then
  // each turned into a float32 (torch does this with Python floats before its element loop).
  const double t = static_cast<double>(options.step);
  const double step_size = options.lr * std::sqrt(1.0 - std::pow(options.beta2, t)) / (1.0 - std::pow(options.beta1, t));
  Scalars s;
  s.b1 = static_cast<float>(options.beta1);
  s.one_minus_b1 = static_cast<float>(1.0 - options.beta1);
  s.b2 = static_cast<float>(options.beta2);
  s.one_minus_b2 = static_cast<float>(1.0 - options.beta2);
  s.eps = static_cast<float>(options.eps);
  s.neg_step = static_cast<float>(-step_size);
  s.neg_decay = static_cast<float>(-options.lr * options.weight_decay);
  s.decay = options.weight_decay > 0.0;

  static TableUploader uploader;
  const unsigned char* device = uploader.upload(table);
  const auto* device_entries = reinterpret_cast<const TensorEntry*>(device);
  const auto* device_starts = reinterpret_cast<const int64_t*>(device + entries_bytes);
  constexpr int threads = 256;
  adamw_kernel<<<grid_for(total, threads), threads, 0, stream()>>>(device_entries, device_starts, count, total, s);
  POSAPL_CUDA_LAUNCHED("adamw_kernel");
}

}  // namespace posapl::cuda
