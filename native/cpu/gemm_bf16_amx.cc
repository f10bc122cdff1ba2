// The AMX path of the BF16 GEMM. Eight tiles: four 16x16 fp32 accumulators make a 32x32 block
// of C; per 32-wide step of K two A tiles (16 rows x 32 bf16) and two B tiles (16 k-pairs x 16
// columns, VNNI order) feed four TDPBF16PS. A thread owns a range of 32-column blocks and walks
// the rows in chunks whose converted A stays in L2, so each B panel is read once per chunk.
#include <immintrin.h>

#include <cstdint>

#include "gemm_bf16_kernels.h"

#pragma GCC push_options
#pragma GCC target("amx-tile,amx-bf16,prfchw")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace posapl::gemm_bf16_detail {

namespace {

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

// The 32x32 block of C at (row, col): rows and cols say how much of it lies inside C.
void block(const Bf16Problem& p, const uint16_t* Ab, int64_t Kp, int64_t row, int64_t col, int64_t rows,
           int64_t cols) {
  const int64_t k_steps = Kp / 32;
  const uint16_t* a0 = Ab + row * Kp;
  const uint16_t* a1 = a0 + 16 * Kp;
  const uint16_t* b0 = p.packed + (col / 16) * k_steps * 512;
  const uint16_t* b1 = b0 + k_steps * 512;
  const int64_t a_stride = Kp * 2;
  // The next block's rows of C are written after its products: claim their lines now, in the
  // shadow of this block's tile products (the outputs are large and cold in memory).
  if (row + 32 < p.M) {
    const int64_t next_rows = p.M - row - 32 < 32 ? p.M - row - 32 : 32;
    for (int64_t i = 0; i < next_rows; ++i) {
      const float* c = p.C + (row + 32 + i) * p.ldc + col;
      __builtin_prefetch(c, 1, 3);
      __builtin_prefetch(c + 16, 1, 3);
      __builtin_prefetch(c + 31, 1, 3);
    }
  }
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
  finish_block(acc, rows, cols, p, row, col);
}

}  // namespace

void gemm_columns_amx(const Bf16Problem& p, const uint16_t* Ab, int64_t Kp, int64_t nb0, int64_t nb1) {
  load_tile_config();
  const int64_t chunk = chunk_rows(Kp);
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
