// The CUDA backend's device memory and the probe that says whether CUDA can run here. Plain C++
// (no CUDA types) so that the bindings can include it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace posapl::cuda {

// What the machine offers; `ok` false says why in `reason` (no driver, a driver older than this
// binary's runtime, no GPU, a GPU older than compute capability 9.0).
struct Probe {
  bool ok = false;
  std::string reason;
  int driver_version = 0;   // e.g. 13000 for CUDA 13.0; 0 when no driver answered
  int runtime_version = 0;  // the runtime this binary was built with
  int device_count = 0;
  std::string device_name;
  size_t total_memory = 0;
  int cc_major = 0, cc_minor = 0;
};
// Asks once and remembers the answer.
const Probe& probe();

// cudaMalloc'd memory, recorded so that bindings can check an address range before a kernel reads
// it. Throws BackendError: POSAPL_NO_CUDA when CUDA cannot run, POSAPL_OOM naming the bytes asked.
void* device_alloc(size_t bytes);
// Frees a block device_alloc returned; false (and nothing freed) for any other pointer.
bool device_free(void* ptr);
// Whether [ptr, ptr + bytes) lies inside one live block.
bool device_range_live(const void* ptr, size_t bytes);

struct MemoryStats {
  size_t live_bytes = 0;
  size_t peak_bytes = 0;
  int64_t blocks = 0;
};
MemoryStats memory_stats();
// Restarts the peak at the live bytes (to measure one phase).
void reset_peak();

}  // namespace posapl::cuda
