// The AVX-512 GEMM path: a 14x32 micro-kernel (28 zmm accumulators; per k step two 16-wide
// loads of B and 14 broadcasts of A feed 28 FMAs), 16x16 transposes for packing the operands
// stored the other way round, and a vectorised epilogue with an erf-exact GELU.
#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
// GCC 12 flags its own _mm512_undefined_ps() inside the intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "simd_math_avx512.h"

namespace posapl::gemm_detail {

namespace {

using simd512::gelu16;
using simd512::first_lanes;

constexpr int64_t MR = 14, NR = 32;

// ---- packing ----------------------------------------------------------------------------

// In place: r[i] lane j becomes r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    const __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
    const __m512d t2 = _mm512_castps_pd(t[i + 2]), t3 = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  // r[4q + j], 128-bit lane L, now holds rows 4q..4q+3 of column 4L + j.
  for (int j = 0; j < 4; ++j) {
    const __m512 even_lo = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    const __m512 even_hi = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    const __m512 odd_lo = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    const __m512 odd_hi = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    t[j] = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);
    t[8 + j] = _mm512_shuffle_f32x4(even_lo, even_hi, 0xDD);
    t[4 + j] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xDD);
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// src (kc, width) with rows ld apart -> ceil(width/W) panels (kc,W), zero past width. Row by
// row, so each source row is read once, front to back.
template <int64_t W>
void pack_rows(float* dst, const float* src, int64_t ld, int64_t width, int64_t kc) {
  const int64_t full = width / W, tail = width - full * W;
  for (int64_t k = 0; k < kc; ++k, src += ld) {
    const float* in = src;
    float* out = dst + k * W;
    for (int64_t p = 0; p < full; ++p, in += W, out += kc * W) {
      for (int64_t g = 0; g + 16 <= W; g += 16) _mm512_storeu_ps(out + g, _mm512_loadu_ps(in + g));
      if (W % 16 != 0) {
        const __mmask16 m = first_lanes(W % 16);
        _mm512_mask_storeu_ps(out + W / 16 * 16, m, _mm512_maskz_loadu_ps(m, in + W / 16 * 16));
      }
    }
    if (tail > 0) {
      for (int64_t g = 0; g < W; g += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(first_lanes(tail - g), in + g);
        _mm512_mask_storeu_ps(out + g, first_lanes(W - g), v);
      }
    }
  }
}

// dst (kc,W): dst[k*W + r] = src[r*ld + k] for r < count, zero beyond; 16x16 blocks at a time.
template <int64_t W>
void pack_columns(float* dst, const float* src, int64_t ld, int64_t count, int64_t kc) {
  for (int64_t g = 0; g < W; g += 16) {
    const int64_t rows = count - g < 16 ? count - g : 16;
    const __mmask16 store = first_lanes(W - g);
    for (int64_t k = 0; k < kc; k += 16) {
      const __mmask16 load = first_lanes(kc - k);
      __m512 r[16];
      for (int64_t i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(load, src + (g + i) * ld + k) : _mm512_setzero_ps();
      transpose16(r);
      const int64_t kn = kc - k < 16 ? kc - k : 16;
      for (int64_t i = 0; i < kn; ++i) _mm512_mask_storeu_ps(dst + (k + i) * W + g, store, r[i]);
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

// One row segment of up to 16 columns (mask): acc holds sum_k a b. Out of line: it runs once
// per tile, and 28 inlined copies of the GELU would crowd the instruction cache.
__attribute__((noinline)) void finish(__m512 acc, __mmask16 mask, float* c, float* pre, const float* bias,
                                      const TileEpilogue& ep) {
  __m512 v = _mm512_mul_ps(acc, _mm512_set1_ps(ep.alpha));
  if (!ep.first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
  else if (ep.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, c), _mm512_set1_ps(ep.beta), v);
  if (ep.last) {
    if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, bias));
    if (pre != nullptr) _mm512_mask_storeu_ps(pre, mask, v);
    if (ep.act == Activation::Relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
    else if (ep.act == Activation::Gelu) v = gelu16(v);
  }
  _mm512_mask_storeu_ps(c, mask, v);
}

// ---- micro-kernel -----------------------------------------------------------------------

void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t mr, int64_t nr,
            const TileEpilogue& ep) {
  // The C tile is written only after the K loop; start fetching it now, into L2, since the
  // panels streaming through L1 would evict it from there before the loop ends.
  for (int64_t i = 0; i < mr; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 31), _MM_HINT_T1);
  }
  // Packed panels longer than L1 stream from L2: fetch them kAhead k steps early.
  constexpr int64_t kAhead = 16;
  __m512 acc[MR][2];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    _mm_prefetch(reinterpret_cast<const char*>(b + kAhead * NR), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + kAhead * NR + 16), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(a + kAhead * MR), _MM_HINT_T0);
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }
  const __mmask16 m0 = first_lanes(nr), m1 = first_lanes(nr - 16);
  const float* bias = ep.bias;
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* pre = ep.pre != nullptr ? ep.pre + i * ldc : nullptr;
    finish(acc[i][0], m0, c + i * ldc, pre, bias, ep);
    finish(acc[i][1], m1, c + i * ldc + 16, pre != nullptr ? pre + 16 : nullptr,
           bias != nullptr ? bias + 16 : nullptr, ep);
  }
}

}  // namespace

}  // namespace posapl::gemm_detail

#pragma GCC diagnostic pop
#pragma GCC pop_options

namespace posapl::gemm_detail {

const GemmKernels& gemm_kernels_avx512() {
  static const GemmKernels kernels{MR, NR, 1024, 256 * 1024, 2048 * 1024, kernel, pack_a, pack_b};
  return kernels;
}

}  // namespace posapl::gemm_detail
