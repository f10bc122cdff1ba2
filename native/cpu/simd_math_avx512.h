// Vectorised float maths for the AVX-512 paths (gemm_avx512.cc, activations_avx512.cc).
//
// Include this only after every other include of a TU, inside its
// `#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")` region: code compiled for
// AVX-512 must never end up in an inline function (a standard header's, say) that the linker
// may pick for a TU running on a CPU without it. The TU includes <immintrin.h> and <cstdint>
// first, before the pragma.
#pragma once

namespace posapl::simd512 {

// All-ones in the first n of 16 lanes: the load / store mask for a row's last partial vector.
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

// c[0] + c[1] x + ... + c[N-1] x^(N-1), by Horner.
template <int N>
inline __m512 polynomial(__m512 x, const float (&c)[N]) {
  __m512 p = _mm512_set1_ps(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(c[i]));
  return p;
}

// e^x for x in [-87, 0], within 2 ulp (Cephes expf: x = n ln2 + r, |r| <= ln2/2; the two-part
// ln2 keeps n ln2 exact, and scalef builds 2^n down to 2^-126 without an exponent-field
// overflow). Callers clamp x into the range: -inf would give inf - inf = NaN in r.
inline __m512 exp_negative(__m512 x) {
  static constexpr float kExpPoly[] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                                       8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  const __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(polynomial(r, kExpPoly), r), r,
                                   _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

// erf(z) within ~2 ulp of std::erf: z P(z^2) below 0.85, else 1 - e^{-z^2} Q(|z| - 2.5), and 1
// from 3.92 on, where erf rounds to 1 in float. P, Q: weighted least-squares fits (mpmath).
inline __m512 erf16(__m512 z) {
  static constexpr float kSmall[] = {1.128379226e+00f, -3.761263788e-01f, 1.128374711e-01f, -2.686248906e-02f,
                                     5.209315103e-03f, -8.244471392e-04f, 8.837024507e-05f};
  static constexpr float kLarge[] = {2.108089775e-01f, -7.435266674e-02f, 2.482051775e-02f,
                                     -8.305170573e-03f, 2.342711203e-03f, -2.198861475e-04f,
                                     1.056902809e-03f, 4.727753403e-04f, 1.513429743e-04f};
  const __m512 a = _mm512_abs_ps(z);
  const __m512 a2 = _mm512_mul_ps(a, a);
  const __m512 small = _mm512_mul_ps(a, polynomial(a2, kSmall));
  const __m512 clamped = _mm512_min_ps(a, _mm512_set1_ps(3.92f));
  const __m512 minus_z2 = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), clamped), clamped);
  const __m512 tail = _mm512_mul_ps(exp_negative(minus_z2),
                                    polynomial(_mm512_sub_ps(clamped, _mm512_set1_ps(2.5f)), kLarge));
  __m512 e = _mm512_sub_ps(_mm512_set1_ps(1.0f), tail);
  e = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(3.92f), _CMP_GE_OQ), e, _mm512_set1_ps(1.0f));
  e = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(0.85f), _CMP_LT_OQ), e, small);
  return _mm512_or_ps(e, _mm512_and_ps(z, _mm512_set1_ps(-0.0f)));
}

// The same expression as posapl::gelu: 0.5 x (1 + erf(x / sqrt 2)).
inline __m512 gelu16(__m512 x) {
  const __m512 e = erf16(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

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

}  // namespace posapl::simd512
