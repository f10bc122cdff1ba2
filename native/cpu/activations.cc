#include "posapl/activations.h"

#include "activations_kernels.h"
#include "posapl/cpu_features.h"
#include "posapl/threadpool.h"

namespace posapl {

void activation_backward(Activation act, float* dx, const float* dy, const float* pre, int64_t n) {
  if (cpu_isa() == Isa::Avx512) {
    parallel_for(n, 1 << 14, [&](int64_t i0, int64_t i1) {
      activation_detail::activation_backward_avx512(act, dx + i0, dy + i0, pre + i0, i1 - i0);
    });
    return;
  }
  if (cpu_isa() == Isa::Avx2) {
    parallel_for(n, 1 << 14, [&](int64_t i0, int64_t i1) {
      activation_detail::activation_backward_avx2(act, dx + i0, dy + i0, pre + i0, i1 - i0);
    });
    return;
  }
  parallel_for(n, 1 << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      switch (act) {
        case Activation::Relu: dx[i] = pre[i] > 0.0f ? dy[i] : 0.0f; break;
        case Activation::Gelu: dx[i] = dy[i] * gelu_grad(pre[i]); break;
        default: dx[i] = dy[i]; break;
      }
    }
  });
}

}  // namespace posapl
