// The MLP adapter's forward and backward (posapl/mlp_adapter.h) as one sequence of primitive
// ops, written once for every backend. `Ops` is a backend's primitive set (native/cpu/step_ops.h,
// native/cuda/step_ops.h): static gemm, bias_grad and relu_mask(dh, h, n) (dh = 0 where h <= 0).
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl {

template <class Ops>
void mlp_adapter_forward_steps(float* out, float* saved, const float* x, const float* w1, const float* b1,
                               const float* w2, const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  float* h = saved;  // (rows,R)
  Ops::gemm(false, true, rows, R, C, 1.0f, x, C, w1, C, 0.0f, h, R, b1, Activation::Relu, nullptr);
  Ops::gemm(false, true, rows, Cout, R, 1.0f, h, R, w2, R, 0.0f, out, Cout, b2, Activation::None, nullptr);
}

template <class Ops>
void mlp_adapter_backward_steps(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                                const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                                int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  const float* h = saved;  // (rows,R)
  float* dh = scratch;     // (rows,R)
  // Linear2: dw2 += dout^T h, db2 += sum dout, dh = dout w2.
  Ops::gemm(true, false, Cout, R, rows, 1.0f, dout, Cout, h, R, 1.0f, dw2, R, nullptr, Activation::None, nullptr);
  Ops::bias_grad(db2, dout, rows, Cout, true);
  Ops::gemm(false, false, rows, R, Cout, 1.0f, dout, Cout, w2, R, 0.0f, dh, R, nullptr, Activation::None, nullptr);
  // ReLU: h > 0 exactly where its input was > 0, so h serves as the mask.
  Ops::relu_mask(dh, h, rows * R);
  // Linear1.
  Ops::gemm(true, false, R, C, rows, 1.0f, dh, R, x, C, 1.0f, dw1, C, nullptr, Activation::None, nullptr);
  Ops::bias_grad(db1, dh, rows, R, true);
  if (dx != nullptr)
    Ops::gemm(false, false, rows, C, R, 1.0f, dh, R, w1, C, 0.0f, dx, C, nullptr, Activation::None, nullptr);
}

}  // namespace posapl
