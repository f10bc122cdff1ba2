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

namespace {

using simd512::erf16;
using simd512::exp_negative;
using simd512::first_lanes;

// The same expression as posapl::gelu_grad: Phi(x) + x phi(x)
//   = 0.5 (1 + erf(x / sqrt 2)) + x e^{-x^2/2} / sqrt(2 pi).
// x phi(x) is taken at x clamped to [-13, 13], inside exp_negative's range: beyond, it is
// below 1e-36 and the float result is Phi(x) either way. Non-finite x gives NaN, as in
// gelu_grad (inf * e^-inf = inf * 0).
inline __m512 gelu_grad16(__m512 x) {
  const __m512 cdf = _mm512_fmadd_ps(_mm512_set1_ps(0.5f), erf16(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f))),
                                     _mm512_set1_ps(0.5f));
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-13.0f)), _mm512_set1_ps(13.0f));
  const __m512 pdf = _mm512_mul_ps(_mm512_set1_ps(0.3989422804014327f),
                                   exp_negative(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(-0.5f), xc), xc)));
  const __m512 grad = _mm512_fmadd_ps(xc, pdf, cdf);
  // fpclass categories: 0x01 QNaN, 0x08 +inf, 0x10 -inf, 0x80 SNaN.
  return _mm512_mask_blend_ps(_mm512_fpclass_ps_mask(x, 0x99), grad, _mm512_set1_ps(__builtin_nanf("")));
}

}  // namespace

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
