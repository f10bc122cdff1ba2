// The CPU's primitive set for the steps the fused ops share with every backend
// (posapl/sa_adapter_steps.h, mlp_adapter_steps.h, side_fusion_steps.h).
#pragma once

#include <cstdint>

#include "posapl/attention.h"
#include "posapl/gemm.h"

namespace posapl {

struct CpuStepOps {
  static constexpr auto gemm = &::posapl::gemm;
  static constexpr auto bias_grad = &::posapl::bias_grad;
  static constexpr auto attention_forward = &::posapl::attention_forward;
  static constexpr auto attention_backward = &::posapl::attention_backward;
  // dst (n) = src (n).
  static void copy(float* dst, const float* src, int64_t n);
  // dh = 0 where h is not > 0.
  static void relu_mask(float* dh, const float* h, int64_t n);
  static void group_sum(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale, bool accumulate);
  static void add_broadcast(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P, int64_t C);
  static void relu_spread(float* dpre, const float* ds, const float* h, int64_t G, int64_t P, int64_t C);
};

}  // namespace posapl
