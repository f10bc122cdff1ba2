// One backend = one table of op entry points (ggml's ggml_backend_i idea, one level above the
// per-ISA GemmKernels of cpu/gemm_kernels.h): the bindings validate their arguments and then
// call through the active backend's table, never a backend's functions directly, so a CUDA
// backend is a second table (native/cuda/backend_cuda.cc), not an `if` in every binding.
// Every entry has the CPU function's signature; pointers are the backend's own memory.
// The image ops are host-side data pipeline (decoded pixels in worker threads) and stay
// plain CPU functions outside the table.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "posapl/adamw.h"
#include "posapl/attention.h"
#include "posapl/elementwise.h"
#include "posapl/embedding.h"
#include "posapl/gemm.h"
#include "posapl/gemm_bf16.h"
#include "posapl/l2norm.h"
#include "posapl/layernorm.h"
#include "posapl/losses.h"
#include "posapl/mlp_adapter.h"
#include "posapl/patch_embed.h"
#include "posapl/sa_adapter.h"
#include "posapl/side_fusion.h"
#include "posapl/token_mean.h"

namespace posapl {

// An op that fails on its device (a CUDA error, device memory exhausted) throws this; the addon
// turns it into a JS Error with `code` (POSAPL_CUDA, POSAPL_OOM, POSAPL_NO_CUDA, ...).
struct BackendError : std::runtime_error {
  BackendError(const char* error_code, const std::string& message) : std::runtime_error(message), code(error_code) {}
  const char* code;
};

// The ops a backend may implement (supports_op tells which).
enum class Op {
  Gemm, GemmReference, BiasGrad, ActivationBackward, Bf16Pack, GemmBf16, GemmBf16Reference,
  Axpy, Add, AttentionForward, AttentionBackward, EmbeddingForward, LayerNormForward, LayerNormBackward,
  L2NormForward, L2NormBackward, TokenMeanForward, TokenMeanBackward, BroadcastAddForward,
  BroadcastAddBackward, MlpAdapterForward, MlpAdapterBackward, SaAdapterForward, SaAdapterBackward,
  SideFusionForward, SideFusionBackward, RetrievalLosses, AdamW, PatchEmbed,
};

struct Backend {
  const char* name;
  // Whether this backend (on this machine, now) can run `op`.
  bool (*supports_op)(Op op);
  // Memory the ops of this backend read and write: 64-byte aligned, nullptr when out of memory.
  void* (*buffer_alloc)(size_t bytes);
  void (*buffer_free)(void* ptr);
  // Copies bytes of this backend's memory to the host, waiting for the ops before it.
  void (*copy_to_host)(void* host, const void* src, size_t bytes);

  decltype(&::posapl::gemm) gemm;
  decltype(&::posapl::gemm_reference) gemm_reference;
  decltype(&::posapl::bias_grad) bias_grad;
  decltype(&::posapl::activation_backward) activation_backward;
  decltype(&::posapl::bf16_pack) bf16_pack;
  decltype(&::posapl::gemm_bf16) gemm_bf16;
  decltype(&::posapl::gemm_bf16_reference) gemm_bf16_reference;
  decltype(&::posapl::axpy) axpy;
  decltype(&::posapl::add) add;
  decltype(&::posapl::attention_forward) attention_forward;
  decltype(&::posapl::attention_backward) attention_backward;
  decltype(&::posapl::embedding_forward) embedding_forward;
  decltype(&::posapl::layernorm_forward) layernorm_forward;
  decltype(&::posapl::layernorm_backward) layernorm_backward;
  decltype(&::posapl::l2norm_forward) l2norm_forward;
  decltype(&::posapl::l2norm_backward) l2norm_backward;
  decltype(&::posapl::token_mean_forward) token_mean_forward;
  decltype(&::posapl::token_mean_backward) token_mean_backward;
  decltype(&::posapl::broadcast_add_forward) broadcast_add_forward;
  decltype(&::posapl::broadcast_add_backward) broadcast_add_backward;
  decltype(&::posapl::mlp_adapter_forward) mlp_adapter_forward;
  decltype(&::posapl::mlp_adapter_backward) mlp_adapter_backward;
  decltype(&::posapl::sa_adapter_forward) sa_adapter_forward;
  decltype(&::posapl::sa_adapter_backward) sa_adapter_backward;
  decltype(&::posapl::side_fusion_forward) side_fusion_forward;
  decltype(&::posapl::side_fusion_backward) side_fusion_backward;
  decltype(&::posapl::retrieval_losses) retrieval_losses;
  decltype(&::posapl::adamw_update) adamw_update;
  decltype(&::posapl::patch_embed_forward) patch_embed_forward;
  // Validation that must read a device's memory: the first id outside [0, vocab), or -1.
  decltype(&::posapl::embedding_first_invalid_id) embedding_first_invalid_id;
};

// The CPU backend (native/cpu/backend_cpu.cc).
const Backend& cpu_backend();

#ifdef POSAPL_CUDA_ADDON
// The CUDA backend (native/cuda/backend_cuda.cc). The CUDA addon is its own binary
// (npm run build:cuda): the same bindings, reading device tensors, over this table.
const Backend& cuda_backend();
inline const Backend& active_backend() { return cuda_backend(); }
#else
// The backend the bindings of the CPU addon call.
inline const Backend& active_backend() { return cpu_backend(); }
#endif

}  // namespace posapl
