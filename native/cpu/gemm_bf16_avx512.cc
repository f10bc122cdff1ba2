// The vector parts of the BF16 GEMM, compiled for AVX-512 with BF16 conversions: rounding A to
// bf16 (VCVTNEPS2BF16, nearest even) as the kernel will read it, and the epilogue that turns a
// block's fp32 sums into C.
//
// (A VDPBF16PS register-tiled kernel for CPUs without AMX was measured here at 190-206 GFLOPS
// against the fp32 GEMM's 306-343: no gain, so those CPUs run precision bf16 as fp32.)
#include <immintrin.h>

#include <cstdint>

#include "gemm_bf16_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512bf16")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "simd_math_avx512.h"

namespace posapl::gemm_bf16_detail {

namespace {

using simd512::first_lanes;
using simd512::gelu16;

inline __m512 apply(Activation act, __m512 v) {
  if (act == Activation::Relu) return _mm512_max_ps(v, _mm512_setzero_ps());
  if (act == Activation::Gelu) return gelu16(v);
  return v;
}

}  // namespace

void convert_rows(uint16_t* Ab, int64_t Kp, const float* A, int64_t lda, int64_t K, Activation act, int64_t r0,
                  int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* src = A + r * lda;
    uint16_t* dst = Ab + r * Kp;
    for (int64_t k = 0; k < Kp; k += 16) {
      const __mmask16 mask = first_lanes(K - k);
      // act(0) = 0 for every activation here, so the padding stays zero.
      const __m256bh h = _mm512_cvtneps_pbh(apply(act, _mm512_maskz_loadu_ps(mask, src + k)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), reinterpret_cast<const __m256i&>(h));
    }
  }
}

void finish_block(const float* acc, int64_t rows, int64_t cols, const Bf16Problem& p, int64_t row, int64_t col) {
  const Bf16Epilogue& ep = p.ep;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t at = (row + i) * p.ldc + col;
    for (int64_t j = 0; j < cols; j += 16) {
      const __mmask16 mask = first_lanes(cols - j);
      __m512 v = _mm512_mul_ps(_mm512_load_ps(acc + i * 32 + j), _mm512_set1_ps(ep.alpha));
      if (ep.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, p.C + at + j), _mm512_set1_ps(ep.beta), v);
      if (ep.bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, ep.bias + col + j));
      if (ep.residual != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, ep.residual + at + j));
      if (ep.pre != nullptr) _mm512_mask_storeu_ps(ep.pre + at + j, mask, v);
      _mm512_mask_storeu_ps(p.C + at + j, mask, apply(ep.act, v));
    }
  }
}

}  // namespace posapl::gemm_bf16_detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
