#include "device_memory.h"

#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "cuda_common.cuh"

namespace posapl::cuda {

const Probe& probe() {
  static Probe p;
  static std::once_flag once;
  std::call_once(once, [] {
    cudaRuntimeGetVersion(&p.runtime_version);
    cudaDriverGetVersion(&p.driver_version);
    const cudaError_t e = cudaGetDeviceCount(&p.device_count);
    if (p.driver_version == 0) {
      p.reason = "no NVIDIA driver was found (libcuda.so did not load)";
    } else if (e == cudaErrorInsufficientDriver || p.driver_version < p.runtime_version) {
      p.reason = "the NVIDIA driver supports CUDA " + std::to_string(p.driver_version / 1000) + "." +
                 std::to_string(p.driver_version % 1000 / 10) + " but this binary needs CUDA " +
                 std::to_string(p.runtime_version / 1000) + "." + std::to_string(p.runtime_version % 1000 / 10) +
                 " or newer";
    } else if (e == cudaErrorNoDevice || (e == cudaSuccess && p.device_count == 0)) {
      p.reason = "no CUDA GPU is visible (cudaGetDeviceCount found none)";
    } else if (e != cudaSuccess) {
      p.reason = std::string("CUDA could not start: ") + cudaGetErrorString(e);
    } else {
      cudaDeviceProp prop;
      const cudaError_t pe = cudaGetDeviceProperties(&prop, 0);
      if (pe != cudaSuccess) {
        p.reason = std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(pe);
      } else {
        p.device_name = prop.name;
        p.total_memory = prop.totalGlobalMem;
        p.cc_major = prop.major;
        p.cc_minor = prop.minor;
        if (prop.major < 9)
          p.reason = std::string("the GPU ") + prop.name + " has compute capability " + std::to_string(prop.major) +
                     "." + std::to_string(prop.minor) + "; this binary is built for 9.0 (Hopper) and newer";
        else
          p.ok = true;
      }
    }
    cudaGetLastError();
  });
  return p;
}

namespace {

struct Registry {
  std::mutex mutex;
  std::map<uintptr_t, size_t> blocks;  // base -> bytes
  MemoryStats stats;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void* device_alloc(size_t bytes) {
  if (!probe().ok) throw BackendError("POSAPL_NO_CUDA", "posapl: device \"cuda\": " + probe().reason);
  stream();  // the context and the stream exist before the first block
  void* ptr = nullptr;
  const size_t asked = bytes == 0 ? 256 : bytes;
  const cudaError_t e = cudaMalloc(&ptr, asked);
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw BackendError("POSAPL_OOM", "posapl: CUDA: out of device memory asking for " + std::to_string(asked) +
                                         " bytes (" + std::to_string(free_bytes >> 20) + " MiB free of " +
                                         std::to_string(total >> 20) + " MiB)");
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.blocks[reinterpret_cast<uintptr_t>(ptr)] = asked;
  r.stats.live_bytes += asked;
  r.stats.blocks += 1;
  if (r.stats.live_bytes > r.stats.peak_bytes) r.stats.peak_bytes = r.stats.live_bytes;
  return ptr;
}

bool device_free(void* ptr) {
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.blocks.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == r.blocks.end()) return false;
    r.stats.live_bytes -= it->second;
    r.stats.blocks -= 1;
    r.blocks.erase(it);
  }
  // cudaFree waits for the work that may still use the block.
  check(cudaFree(ptr), "cudaFree");
  return true;
}

bool device_range_live(const void* ptr, size_t bytes) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(ptr);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.blocks.upper_bound(at);
  if (it == r.blocks.begin()) return false;
  --it;
  return at >= it->first && at - it->first <= it->second && bytes <= it->second - (at - it->first);
}

MemoryStats memory_stats() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.stats;
}

void reset_peak() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.stats.peak_bytes = r.stats.live_bytes;
}

}  // namespace posapl::cuda
