// The AVX2+FMA GEMM path: a 6x16 micro-kernel (12 ymm accumulators; per k step two 8-wide
// loads of B and 6 broadcasts of A feed 12 FMAs), 8x8 transposes for packing the operands
// stored the other way round, and a vectorised epilogue with an erf-exact GELU.
#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "simd_math_avx2.h"

namespace posapl::gemm_detail {

namespace {

using simd256::first_lanes;
using simd256::gelu8;

constexpr int64_t MR = 6, NR = 16;

// ---- packing ----------------------------------------------------------------------------

// In place: r[i] lane j becomes r[j] lane i.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  // s[4q + j], 128-bit half h, now holds rows 4q..4q+3 of column 4h + j.
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(s[j], s[4 + j], 0x31);
  }
}

// src (kc, width) with rows ld apart -> ceil(width/W) panels (kc,W), zero past width. Row by
// row, so each source row is read once, front to back. W need not be a multiple of 8.
template <int64_t W>
void pack_rows(float* dst, const float* src, int64_t ld, int64_t width, int64_t kc) {
  const int64_t panels = (width + W - 1) / W;
  for (int64_t k = 0; k < kc; ++k, src += ld) {
    for (int64_t p = 0; p < panels; ++p) {
      float* out = dst + (p * kc + k) * W;
      for (int64_t g = 0; g < W; g += 8) {
        const __m256 v = _mm256_maskload_ps(src + p * W + g, first_lanes(width - p * W - g));
        _mm256_maskstore_ps(out + g, first_lanes(W - g), v);
      }
    }
  }
}

// dst (kc,W): dst[k*W + r] = src[r*ld + k] for r < count, zero beyond; 8x8 blocks at a time.
// W need not be a multiple of 8: the last group stores only its W % 8 rows.
template <int64_t W>
void pack_columns(float* dst, const float* src, int64_t ld, int64_t count, int64_t kc) {
  for (int64_t g = 0; g < W; g += 8) {
    const int64_t rows = count - g < 8 ? count - g : 8;
    const __m256i store = first_lanes(W - g);
    for (int64_t k = 0; k < kc; k += 8) {
      const __m256i load = first_lanes(kc - k);
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i)
        r[i] = i < rows ? _mm256_maskload_ps(src + (g + i) * ld + k, load) : _mm256_setzero_ps();
      transpose8(r);
      const int64_t kn = kc - k < 8 ? kc - k : 8;
      for (int64_t i = 0; i < kn; ++i) _mm256_maskstore_ps(dst + (k + i) * W + g, store, r[i]);
    }
  }
}

void pack_a(float* dst, const float* A, int64_t lda, bool trans, int64_t m0, int64_t mc, int64_t k0, int64_t kc) {
  if (trans) {
    pack_rows<MR>(dst, A + k0 * lda + m0, lda, mc, kc);
    return;
  }
  for (int64_t i = 0; i < mc; i += MR, dst += MR * kc)
    pack_columns<MR>(dst, A + (m0 + i) * lda + k0, lda, mc - i < MR ? mc - i : MR, kc);
}

void pack_b(float* dst, const float* B, int64_t ldb, bool trans, int64_t n0, int64_t nc, int64_t k0, int64_t kc) {
  if (!trans) {
    pack_rows<NR>(dst, B + k0 * ldb + n0, ldb, nc, kc);
    return;
  }
  for (int64_t j = 0; j < nc; j += NR, dst += NR * kc)
    pack_columns<NR>(dst, B + (n0 + j) * ldb + k0, ldb, nc - j < NR ? nc - j : NR, kc);
}

// ---- epilogue ---------------------------------------------------------------------------

// One row segment of up to 8 columns (mask): acc holds sum_k a b. Out of line, as in AVX-512.
__attribute__((noinline)) void finish(__m256 acc, __m256i mask, float* c, float* pre, const float* bias,
                                      const TileEpilogue& ep) {
  __m256 v = _mm256_mul_ps(acc, _mm256_set1_ps(ep.alpha));
  if (!ep.first) v = _mm256_add_ps(v, _mm256_maskload_ps(c, mask));
  else if (ep.beta != 0.0f) v = _mm256_fmadd_ps(_mm256_maskload_ps(c, mask), _mm256_set1_ps(ep.beta), v);
  if (ep.last) {
    if (bias != nullptr) v = _mm256_add_ps(v, _mm256_maskload_ps(bias, mask));
    if (pre != nullptr) _mm256_maskstore_ps(pre, mask, v);
    if (ep.act == Activation::Relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    else if (ep.act == Activation::Gelu) v = gelu8(v);
  }
  _mm256_maskstore_ps(c, mask, v);
}

// ---- micro-kernel -----------------------------------------------------------------------

void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t mr, int64_t nr,
            const TileEpilogue& ep) {
  // The C tile is written only after the K loop; start fetching it now, into L2.
  for (int64_t i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T1);
  }
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  const __m256i m0 = first_lanes(nr), m1 = first_lanes(nr - 8);
  const float* bias = ep.bias;
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* pre = ep.pre != nullptr ? ep.pre + i * ldc : nullptr;
    finish(acc[i][0], m0, c + i * ldc, pre, bias, ep);
    finish(acc[i][1], m1, c + i * ldc + 8, pre != nullptr ? pre + 8 : nullptr, bias != nullptr ? bias + 8 : nullptr,
           ep);
  }
}

}  // namespace

}  // namespace posapl::gemm_detail

#pragma GCC pop_options

namespace posapl::gemm_detail {

const GemmKernels& gemm_kernels_avx2() {
  static const GemmKernels kernels{MR, NR, 512, 40 * 1024, 1024 * 1024, kernel, pack_a, pack_b};
  return kernels;
}

}  // namespace posapl::gemm_detail
