// The CUDA backend's op table: the kernels of native/cuda behind the same entries as the CPU's.
// The CPU-only ops (the plain-loop references the CPU tests use) are not offered: supports_op says
// so and their entries refuse with a coded error. bf16_pack uses its own layout (gemm_bf16.cu).
#include <cuda_runtime.h>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "device_memory.h"
#include "posapl/backend.h"

namespace posapl {

namespace {

bool cuda_supports_op(Op op) {
  switch (op) {
    case Op::GemmReference:
    case Op::GemmBf16Reference:
      return false;
    default:
      return cuda::probe().ok;
  }
}

void* cuda_alloc(size_t bytes) { return cuda::device_alloc(bytes); }
void cuda_free(void* ptr) { cuda::device_free(ptr); }

// On the ops' stream (a non-blocking one: a plain cudaMemcpy would not wait for it).
void cuda_copy_to_host(void* host, const void* src, size_t bytes) {
  cuda::check(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, cuda::stream()), "copy to host");
  cuda::check(cudaStreamSynchronize(cuda::stream()), "copy to host");
}

[[noreturn]] void refuse(const char* op) {
  throw BackendError("POSAPL_DEVICE", std::string("posapl: ") + op + " is not offered by the CUDA backend");
}

void no_gemm_reference(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                       float*, int64_t, const float*, Activation, float*) {
  refuse("gemmReference");
}
void no_gemm_bf16_reference(int64_t, int64_t, int64_t, const float*, int64_t, const uint16_t*, float*, int64_t,
                            const Bf16Epilogue&) {
  refuse("gemmBf16Reference");
}

const Backend kCuda = {
    "cuda", cuda_supports_op, cuda_alloc, cuda_free, cuda_copy_to_host,
    cuda::gemm, no_gemm_reference, cuda::bias_grad, cuda::activation_backward, cuda::bf16_pack, cuda::gemm_bf16,
    no_gemm_bf16_reference, cuda::axpy, cuda::add, cuda::attention_forward, cuda::attention_backward,
    cuda::embedding_forward, cuda::layernorm_forward, cuda::layernorm_backward, cuda::l2norm_forward,
    cuda::l2norm_backward, cuda::token_mean_forward, cuda::token_mean_backward, cuda::broadcast_add_forward,
    cuda::broadcast_add_backward, cuda::mlp_adapter_forward, cuda::mlp_adapter_backward, cuda::sa_adapter_forward,
    cuda::sa_adapter_backward, cuda::side_fusion_forward, cuda::side_fusion_backward, cuda::retrieval_losses,
    cuda::adamw_update, cuda::patch_embed_forward, cuda::embedding_first_invalid_id,
};

}  // namespace

const Backend& cuda_backend() { return kCuda; }

}  // namespace posapl
