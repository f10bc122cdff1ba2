// One AdamW step as in HuggingFace transformers.optimization.AdamW (not torch.optim.AdamW),
// applied in place to many tensors at once. For every element, with t the 1-based step:
//   m = b1 m + (1-b1) g;   v = b2 v + (1-b2) g^2
//   p -= lr sqrt(1-b2^t) / (1-b1^t) * m / (sqrt(v) + eps)     (bias correction in the step size)
//   p -= lr wd p                                               (decoupled decay, after the update)
// The float32 operations follow torch's order so results agree with it to the last bits.
#pragma once

#include <cstdint>

namespace posapl {

struct AdamWOptions {
  double lr;            // >= 0
  double beta1;         // in [0, 1)
  double beta2;         // in [0, 1)
  double eps;           // >= 0
  double weight_decay;  // >= 0; 0 skips the decay
  int64_t step;         // t, 1-based
};

// Tensor k has sizes[k] elements: params[k], exp_avg[k] (m) and exp_avg_sq[k] (v) are updated
// in place from grads[k]. No two of the buffers may overlap.
void adamw_update(float* const* params, float* const* exp_avg, float* const* exp_avg_sq, const float* const* grads,
                  const int64_t* sizes, int64_t count, const AdamWOptions& options);

}  // namespace posapl
