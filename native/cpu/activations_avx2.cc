// The AVX2 path of activation_backward: 8 lanes a step, the last partial step masked.
// GELU' uses the erf and exp of the GEMM's GELU epilogue (simd_math_avx2.h).
#include <immintrin.h>

#include <cstdint>

#include "activations_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "simd_math_avx2.h"

namespace posapl::activation_detail {

using simd256::first_lanes;
using simd256::gelu_grad8;

void activation_backward_avx2(Activation act, float* dx, const float* dy, const float* pre, int64_t n) {
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = first_lanes(n - i);
    const __m256 d = _mm256_maskload_ps(dy + i, m);
    const __m256 x = _mm256_maskload_ps(pre + i, m);
    __m256 g;
    switch (act) {
      case Activation::Relu: g = _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), d); break;
      case Activation::Gelu: g = _mm256_mul_ps(d, gelu_grad8(x)); break;
      default: g = d; break;
    }
    _mm256_maskstore_ps(dx + i, m, g);
  }
}

}  // namespace posapl::activation_detail

#pragma GCC pop_options
