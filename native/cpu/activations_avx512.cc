// The AVX-512 path of activation_backward: 16 lanes a step, the last partial step masked.
// GELU' uses the erf and exp of the GEMM's GELU epilogue (simd_math_avx512.h).
#include <immintrin.h>

#include <cstdint>

#include "activations_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
// GCC 12 flags its own _mm512_undefined_ps() inside the intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "simd_math_avx512.h"

namespace posapl::activation_detail {

using simd512::first_lanes;
using simd512::gelu_grad16;

void activation_backward_avx512(Activation act, float* dx, const float* dy, const float* pre, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = first_lanes(n - i);
    const __m512 d = _mm512_maskz_loadu_ps(m, dy + i);
    const __m512 x = _mm512_maskz_loadu_ps(m, pre + i);
    __m512 g;
    switch (act) {
      case Activation::Relu: g = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), d); break;
      case Activation::Gelu: g = _mm512_mul_ps(d, gelu_grad16(x)); break;
      default: g = d; break;
    }
    _mm512_mask_storeu_ps(dx + i, m, g);
  }
}

}  // namespace posapl::activation_detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
