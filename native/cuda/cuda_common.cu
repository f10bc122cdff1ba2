#include "cuda_common.cuh"
#include "device_memory.h"

#include <cstdlib>
#include <mutex>

namespace posapl::cuda {

namespace {

struct Context {
  cudaStream_t stream = nullptr;
  bool sync_each_launch = false;
  void* scratch[static_cast<int>(ScratchSlot::Count)] = {};
  size_t scratch_bytes[static_cast<int>(ScratchSlot::Count)] = {};
  MathMode math = MathMode::Fp32;
};

Context& context() {
  static Context ctx;
  static std::once_flag once;
  std::call_once(once, [] {
    // Where CUDA cannot run, say why (no driver, old driver, no GPU) rather than a raw CUDA error.
    if (!probe().ok) throw BackendError("POSAPL_NO_CUDA", "posapl: device \"cuda\": " + probe().reason);
    check(cudaSetDevice(0), "cudaSetDevice");
    check(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking), "cudaStreamCreate");
    const char* sync = std::getenv("POSAPL_CUDA_SYNC");
    ctx.sync_each_launch = sync != nullptr && sync[0] == '1';
  });
  return ctx;
}

}  // namespace

cudaStream_t stream() { return context().stream; }

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  const std::string message = std::string("posapl: CUDA: ") + what + ": " + cudaGetErrorString(e);
  throw BackendError(e == cudaErrorMemoryAllocation ? "POSAPL_OOM" : "POSAPL_CUDA", message);
}

void check_launch(const char* kernel) {
  check(cudaGetLastError(), kernel);
  if (context().sync_each_launch) check(cudaStreamSynchronize(context().stream), kernel);
}

void* scratch(ScratchSlot slot, size_t bytes) {
  Context& ctx = context();
  const int i = static_cast<int>(slot);
  if (ctx.scratch_bytes[i] < bytes) {
    // The stream may still be using the old block: wait before giving it back.
    if (ctx.scratch[i] != nullptr) {
      check(cudaStreamSynchronize(ctx.stream), "cudaStreamSynchronize (scratch)");
      check(cudaFree(ctx.scratch[i]), "cudaFree (scratch)");
      ctx.scratch[i] = nullptr;
      ctx.scratch_bytes[i] = 0;
    }
    const size_t grown = bytes + bytes / 4;
    cudaError_t e = cudaMalloc(&ctx.scratch[i], grown);
    if (e != cudaSuccess) {
      cudaGetLastError();
      ctx.scratch[i] = nullptr;
      throw BackendError("POSAPL_OOM", "posapl: CUDA: out of device memory asking for " + std::to_string(grown) +
                                           " bytes of scratch");
    }
    ctx.scratch_bytes[i] = grown;
  }
  return ctx.scratch[i];
}

MathMode math_mode() { return context().math; }
void set_math_mode(MathMode mode) { context().math = mode; }

}  // namespace posapl::cuda
