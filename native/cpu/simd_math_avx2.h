// Vectorised float maths for the AVX2 paths (gemm_avx2.cc, activations_avx2.cc).
//
// Include this only after every other include of a TU, inside its
// `#pragma GCC target("avx2,fma")` region: code compiled for AVX2 must never end up in an inline
// function (a standard header's, say) that the linker may pick for a TU running on a CPU without
// it. The TU includes <immintrin.h> and <cstdint> first, before the pragma.
#pragma once

namespace posapl::simd256 {

// c[0] + c[1] x + ... + c[N-1] x^(N-1), by Horner.
template <int N>
inline __m256 polynomial(__m256 x, const float (&c)[N]) {
  __m256 p = _mm256_set1_ps(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[i]));
  return p;
}

// e^x for x in [-87, 0], within 2 ulp (Cephes expf: x = n ln2 + r, |r| <= ln2/2). Callers clamp
// x into the range (-inf would give inf - inf = NaN in r).
inline __m256 exp_negative(__m256 x) {
  static constexpr float kExpPoly[] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                                       8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  const __m256 y = _mm256_fmadd_ps(_mm256_mul_ps(polynomial(r, kExpPoly), r), r,
                                   _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n built in the exponent field: n >= -126 in this range, so the field stays normal.
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(scale));
}

// erf(z) within ~2 ulp of std::erf; the same fits as simd_math_avx512.h (see there).
inline __m256 erf8(__m256 z) {
  static constexpr float kSmall[] = {1.128379226e+00f, -3.761263788e-01f, 1.128374711e-01f, -2.686248906e-02f,
                                     5.209315103e-03f, -8.244471392e-04f, 8.837024507e-05f};
  static constexpr float kLarge[] = {2.108089775e-01f, -7.435266674e-02f, 2.482051775e-02f,
                                     -8.305170573e-03f, 2.342711203e-03f, -2.198861475e-04f,
                                     1.056902809e-03f, 4.727753403e-04f, 1.513429743e-04f};
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 a = _mm256_andnot_ps(sign, z);
  const __m256 small = _mm256_mul_ps(a, polynomial(_mm256_mul_ps(a, a), kSmall));
  const __m256 clamped = _mm256_min_ps(a, _mm256_set1_ps(3.92f));
  const __m256 minus_z2 = _mm256_mul_ps(_mm256_xor_ps(clamped, sign), clamped);
  const __m256 tail = _mm256_mul_ps(exp_negative(minus_z2),
                                    polynomial(_mm256_sub_ps(clamped, _mm256_set1_ps(2.5f)), kLarge));
  __m256 e = _mm256_sub_ps(_mm256_set1_ps(1.0f), tail);
  e = _mm256_blendv_ps(e, _mm256_set1_ps(1.0f), _mm256_cmp_ps(a, _mm256_set1_ps(3.92f), _CMP_GE_OQ));
  e = _mm256_blendv_ps(e, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.85f), _CMP_LT_OQ));
  return _mm256_or_ps(e, _mm256_and_ps(z, sign));
}

// The same expression as posapl::gelu: 0.5 x (1 + erf(x / sqrt 2)).
inline __m256 gelu8(__m256 x) {
  const __m256 e = erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x), as posapl::gelu_grad; NaN for NaN and +-inf (as the
// scalar form gives: inf * 0).
inline __m256 gelu_grad8(__m256 x) {
  const __m256 cdf = _mm256_fmadd_ps(_mm256_set1_ps(0.5f), erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f))),
                                     _mm256_set1_ps(0.5f));
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-13.0f)), _mm256_set1_ps(13.0f));
  const __m256 pdf = _mm256_mul_ps(_mm256_set1_ps(0.3989422804014327f),
                                   exp_negative(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-0.5f), xc), xc)));
  const __m256 grad = _mm256_fmadd_ps(xc, pdf, cdf);
  const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 special = _mm256_or_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q),
                                      _mm256_cmp_ps(magnitude, _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ));
  return _mm256_blendv_ps(grad, _mm256_set1_ps(__builtin_nanf("")), special);
}

// All-ones in the first n of 8 lanes: the mask form of vmaskmovps.
inline __m256i first_lanes(int64_t n) {
  const int32_t count = n <= 0 ? 0 : n >= 8 ? 8 : static_cast<int32_t>(n);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

}  // namespace posapl::simd256
