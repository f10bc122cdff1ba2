// Element-wise activations shared by GEMM epilogues and the adapters.
#pragma once

#include <cmath>
#include <cstdint>

namespace posapl {

enum class Activation : int { None = 0, Relu = 1, Gelu = 2 };

// Exact GELU, x * Phi(x) with the erf form (open_clip uses nn.GELU(), not the tanh form).
inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

// d/dx [x Phi(x)] = Phi(x) + x phi(x).
inline float gelu_grad(float x) {
  const float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
  const float pdf = 0.3989422804014327f * std::exp(-0.5f * x * x);
  return cdf + x * pdf;
}

inline float activate(Activation act, float x) {
  switch (act) {
    case Activation::Relu: return x > 0.0f ? x : 0.0f;
    case Activation::Gelu: return gelu(x);
    default: return x;
  }
}

// dx = dy * act'(pre), n elements; `pre` is the value before the activation.
void activation_backward(Activation act, float* dx, const float* dy, const float* pre, int64_t n);

}  // namespace posapl
