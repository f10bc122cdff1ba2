// The SA-adapter's forward and backward (posapl/sa_adapter.h) as one sequence of primitive ops,
// written once for every backend. `Ops` is a backend's primitive set (native/cpu/step_ops.h,
// native/cuda/step_ops.h): static gemm, bias_grad, attention_forward, attention_backward and
// copy(dst, src, n) with the CPU functions' signatures, on that backend's memory.
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl {

namespace sa_adapter_detail {

// The saved buffer's parts; F is float in the forward (writes) and const float in the backward.
template <typename F>
struct Saved {
  F* y;      // (T,R)
  F* qkv;    // (T,3R)
  F* att;    // (T,R)
  F* a;      // (T,R)
  F* probs;  // (N,H,L,L)
};

template <typename F>
Saved<F> saved_views(F* saved, int64_t T, int64_t R) {
  Saved<F> s;
  s.y = saved;
  s.qkv = s.y + T * R;
  s.att = s.qkv + 3 * T * R;
  s.a = s.att + T * R;
  s.probs = s.a + T * R;
  return s;
}

}  // namespace sa_adapter_detail

template <class Ops>
void sa_adapter_forward_steps(float* out, float* saved, const float* m, const float* wd, const float* bd,
                              const float* win, const float* bin, const float* wo, const float* bo, const float* wu,
                              const float* bu, int64_t N, int64_t L, int64_t C, int64_t R, int64_t H) {
  using namespace sa_adapter_detail;
  const int64_t T = N * L;  // tokens
  const Saved<float> s = saved_views(saved, T, R);
  Ops::gemm(false, true, T, R, C, 1.0f, m, C, wd, C, 0.0f, s.y, R, bd, Activation::None, nullptr);
  Ops::gemm(false, true, T, 3 * R, R, 1.0f, s.y, R, win, R, 0.0f, s.qkv, 3 * R, bin, Activation::None, nullptr);
  Ops::attention_forward(s.att, s.probs, s.qkv, N, L, H, R / H, false);
  // a = out_proj(att) + y: start from y and let the GEMM accumulate (beta 1).
  Ops::copy(s.a, s.y, T * R);
  Ops::gemm(false, true, T, R, R, 1.0f, s.att, R, wo, R, 1.0f, s.a, R, bo, Activation::None, nullptr);
  Ops::gemm(false, true, T, C, R, 1.0f, s.a, R, wu, R, 0.0f, out, C, bu, Activation::None, nullptr);
}

template <class Ops>
void sa_adapter_backward_steps(float* dm, float* dwd, float* dbd, float* dwin, float* dbin, float* dwo, float* dbo,
                               float* dwu, float* dbu, float* scratch, const float* dout, const float* m,
                               const float* wd, const float* win, const float* wo, const float* wu, const float* saved,
                               int64_t N, int64_t L, int64_t C, int64_t R, int64_t H) {
  using namespace sa_adapter_detail;
  const int64_t T = N * L;
  const Saved<const float> s = saved_views(saved, T, R);
  float* da = scratch;          // (T,R): da, then dy = da + dqkv win
  float* datt = da + T * R;     // (T,R)
  float* dqkv = datt + T * R;   // (T,3R)

  // Up projection.
  Ops::gemm(true, false, C, R, T, 1.0f, dout, C, s.a, R, 1.0f, dwu, R, nullptr, Activation::None, nullptr);
  Ops::bias_grad(dbu, dout, T, C, true);
  Ops::gemm(false, false, T, R, C, 1.0f, dout, C, wu, R, 0.0f, da, R, nullptr, Activation::None, nullptr);
  // out_proj (the residual passes da straight to y).
  Ops::gemm(true, false, R, R, T, 1.0f, da, R, s.att, R, 1.0f, dwo, R, nullptr, Activation::None, nullptr);
  Ops::bias_grad(dbo, da, T, R, true);
  Ops::gemm(false, false, T, R, R, 1.0f, da, R, wo, R, 0.0f, datt, R, nullptr, Activation::None, nullptr);
  // Attention and in_proj.
  Ops::attention_backward(dqkv, datt, s.qkv, s.probs, N, L, H, R / H, false);
  Ops::gemm(true, false, 3 * R, R, T, 1.0f, dqkv, 3 * R, s.y, R, 1.0f, dwin, R, nullptr, Activation::None, nullptr);
  Ops::bias_grad(dbin, dqkv, T, 3 * R, true);
  float* dy = da;  // dy = da + dqkv win, accumulated onto da
  Ops::gemm(false, false, T, R, 3 * R, 1.0f, dqkv, 3 * R, win, R, 1.0f, dy, R, nullptr, Activation::None, nullptr);
  // Down projection.
  Ops::gemm(true, false, R, C, T, 1.0f, dy, R, m, C, 1.0f, dwd, C, nullptr, Activation::None, nullptr);
  Ops::bias_grad(dbd, dy, T, R, true);
  if (dm != nullptr)
    Ops::gemm(false, false, T, C, R, 1.0f, dy, R, wd, C, 0.0f, dm, C, nullptr, Activation::None, nullptr);
}

}  // namespace posapl
