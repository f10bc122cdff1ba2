// The AMX path of the BF16 GEMM. Eight tiles: four 16x16 fp32 accumulators make a 32x32 block
// of C; per 32-wide step of K two A tiles (16 rows x 32 bf16) and two B tiles (16 k-pairs x 16
// columns, VNNI order) feed four TDPBF16PS. A thread owns a range of 32-column blocks and walks
// the rows in chunks whose converted A stays in L2, so each B panel is read once per chunk.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "gemm_bf16_kernels.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,avx512bf16,amx-tile,amx-bf16")
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

// Palette 1, every tile 16 rows of 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void load_tile_config() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  _tile_loadconfig(&cfg);
}

// One row of up to 32 columns of the block (offset `at` into C's layout): acc -> C.
inline void finish_row(const float* acc, int64_t cols, const Bf16Problem& p, int64_t row, int64_t col) {
  const Bf16Epilogue& ep = p.ep;
  const int64_t at = row * p.ldc + col;
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 mask = first_lanes(cols - j);
    __m512 v = _mm512_mul_ps(_mm512_load_ps(acc + j), _mm512_set1_ps(ep.alpha));
    if (ep.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, p.C + at + j), _mm512_set1_ps(ep.beta), v);
    if (ep.bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, ep.bias + col + j));
    if (ep.pre != nullptr) _mm512_mask_storeu_ps(ep.pre + at + j, mask, v);
    _mm512_mask_storeu_ps(p.C + at + j, mask, apply(ep.act, v));
  }
}

// The 32x32 block of C at (row, col): rows and cols say how much of it lies inside C.
void block(const Bf16Problem& p, const uint16_t* Ab, int64_t Kp, int64_t row, int64_t col, int64_t rows,
           int64_t cols) {
  const int64_t k_steps = Kp / 32;
  const uint16_t* a0 = Ab + row * Kp;
  const uint16_t* a1 = a0 + 16 * Kp;
  const uint16_t* b0 = p.packed + (col / 16) * k_steps * 512;
  const uint16_t* b1 = b0 + k_steps * 512;
  const int64_t a_stride = Kp * 2;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t s = 0; s < k_steps; ++s) {
    _tile_loadd(4, a0 + s * 32, a_stride);
    _tile_loadd(6, b0 + s * 512, 64);
    _tile_loadd(7, b1 + s * 512, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_loadd(5, a1 + s * 32, a_stride);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float acc[32 * 32];
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 16, 128);
  _tile_stored(2, acc + 16 * 32, 128);
  _tile_stored(3, acc + 16 * 32 + 16, 128);
  for (int64_t i = 0; i < rows; ++i) finish_row(acc + i * 32, cols, p, row + i, col);
}

}  // namespace

void convert_rows_amx(uint16_t* Ab, int64_t Kp, const float* A, int64_t lda, int64_t K, Activation act, int64_t r0,
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

void gemm_columns_amx(const Bf16Problem& p, const uint16_t* Ab, int64_t Kp, int64_t nb0, int64_t nb1) {
  load_tile_config();
  // Rows per chunk: about 1 MiB of converted A, which stays in L2 while the columns pass.
  const int64_t chunk = std::max<int64_t>(32, (1 << 20) / (Kp * 2) / 32 * 32);
  for (int64_t r0 = 0; r0 < p.M; r0 += chunk) {
    const int64_t r1 = r0 + chunk < p.M ? r0 + chunk : p.M;
    for (int64_t nb = nb0; nb < nb1; ++nb) {
      const int64_t col = nb * 32, cols = p.N - col < 32 ? p.N - col : 32;
      for (int64_t row = r0; row < r1; row += 32) block(p, Ab, Kp, row, col, r1 - row < 32 ? r1 - row : 32, cols);
    }
  }
  _tile_release();
}

}  // namespace posapl::gemm_bf16_detail

#pragma GCC diagnostic pop
#pragma GCC pop_options
