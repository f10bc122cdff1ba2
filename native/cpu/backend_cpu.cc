// The CPU backend's op table: the SIMD paths inside each op are chosen per call from cpu_isa().
#include <cstdlib>
#include <cstring>

#include "posapl/backend.h"

namespace posapl {

namespace {

bool cpu_supports_op(Op op) {
  // The bf16 kernel needs AMX-BF16 (its reference runs anywhere); everything else always runs.
  return op != Op::GemmBf16 || bf16_available();
}

void* cpu_alloc(size_t bytes) {
  const size_t rounded = (bytes + 63) / 64 * 64;
  return std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
}

void cpu_free(void* ptr) { std::free(ptr); }

void cpu_copy_to_host(void* host, const void* src, size_t bytes) { std::memcpy(host, src, bytes); }

const Backend kCpu = {
    "cpu", cpu_supports_op, cpu_alloc, cpu_free, cpu_copy_to_host,
    gemm, gemm_reference, bias_grad, activation_backward, bf16_pack, gemm_bf16, gemm_bf16_reference,
    axpy, add, attention_forward, attention_backward, embedding_forward, layernorm_forward,
    layernorm_backward, l2norm_forward, l2norm_backward, token_mean_forward, token_mean_backward,
    broadcast_add_forward, broadcast_add_backward, mlp_adapter_forward, mlp_adapter_backward,
    sa_adapter_forward, sa_adapter_backward, side_fusion_forward, side_fusion_backward, retrieval_losses,
    adamw_update, patch_embed_forward, embedding_first_invalid_id,
};

}  // namespace

const Backend& cpu_backend() { return kCpu; }

}  // namespace posapl
