// A persistent pool of worker threads sized to the cores (POSAPL_THREADS overrides).
// parallel_for splits [0, n) into contiguous chunks; the calling thread takes a share.
// A parallel_for issued from inside a worker runs serially, so kernels may nest freely.
#pragma once

#include <cstdint>
#include <functional>

namespace posapl {

// The most threads a pool may have (POSAPL_THREADS and set_num_threads).
constexpr int kMaxThreads = 1024;

// Number of threads a parallel_for uses (workers plus the caller).
int num_threads();

// Replaces the pool by one of `threads` threads (clamped to [1, kMaxThreads]) and returns the
// count in use. Jobs already running finish on the old pool. The op tests run 1 and 3 threads.
int set_num_threads(int threads);

// Calls fn(begin, end) over disjoint ranges covering [0, n). `grain` is the smallest range
// worth a thread: small problems run on the calling thread alone.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace posapl
