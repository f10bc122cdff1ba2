// What every CUDA op file shares: the backend's stream, error checks that throw
// posapl::BackendError (turned into a coded JS error by the binding), launch sizing, a per-op
// device scratch, and the GEMM math mode. Include from .cu files only.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "posapl/backend.h"

namespace posapl::cuda {

// The one stream every op is enqueued on (created with the context on first use).
cudaStream_t stream();

// Throws BackendError("POSAPL_CUDA", "<what>: <cuda error string>") when e is not cudaSuccess
// (an out-of-memory error is POSAPL_OOM).
void check(cudaError_t e, const char* what);
// After a launch: the launch error, and with POSAPL_CUDA_SYNC=1 (the checks) the kernel's own.
void check_launch(const char* kernel);

#define POSAPL_CUDA_CHECK(call) ::posapl::cuda::check((call), #call)
#define POSAPL_CUDA_LAUNCHED(name) ::posapl::cuda::check_launch(name)

inline unsigned grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535LL * 32) blocks = 65535LL * 32;  // grid-stride loops cover the rest
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Device scratch owned by the backend, at least `bytes`, valid until the next call with the same
// slot (stream order makes reuse across ops safe). Slots keep two users in one op apart.
enum class ScratchSlot : int { Gemm = 0, Losses = 1, AdamW = 2, Op = 3, Count = 4 };
void* scratch(ScratchSlot slot, size_t bytes);

// How the fp32 GEMMs run: exact fp32 (the parity mode) or TF32 tensor cores.
enum class MathMode : int { Fp32 = 0, Tf32 = 1 };
MathMode math_mode();
void set_math_mode(MathMode mode);

// TF32 is for the frozen backbone's products: the trainable adapters and the losses run their
// GEMMs in exact fp32 whatever the mode (their gradients are what training reads, and they are a
// few percent of the FLOPs). Ops are enqueued in host order, so a host-side scope suffices.
class ExactFp32Scope {
 public:
  ExactFp32Scope() : saved_(math_mode()) { set_math_mode(MathMode::Fp32); }
  ~ExactFp32Scope() { set_math_mode(saved_); }
  ExactFp32Scope(const ExactFp32Scope&) = delete;
  ExactFp32Scope& operator=(const ExactFp32Scope&) = delete;

 private:
  MathMode saved_;
};

// cuBLAS GemmEx on the backend stream (gemm.cu), column-major as cuBLAS takes it; alpha and beta
// on the host. tf32 picks the TF32 compute type for fp32 operands (bf16 operands always use fp32
// accumulation).
void cublas_gemm_ex(bool trans_first, bool trans_second, int m, int n, int k, float alpha, const void* first,
                    cudaDataType first_type, int ld_first, const void* second, cudaDataType second_type, int ld_second,
                    float beta, void* C, int ldc, bool tf32);

// A dimension as cuBLAS's int, or BackendError POSAPL_SHAPE naming it.
int cublas_int(int64_t v, const char* name);

}  // namespace posapl::cuda
