// Private to gemm_bf16.cc: the pieces compiled for their ISA in their own files.
//   gemm_bf16_avx512.cc  A's conversion to bf16 and the epilogue (AVX-512 + BF16 conversions)
//   gemm_bf16_amx.cc     the AMX kernel (TDPBF16PS), 32x32 blocks of C
#pragma once

#include <cstdint>

#include "posapl/activations.h"
#include "posapl/gemm_bf16.h"

namespace posapl::gemm_bf16_detail {

// Packed op(B): panels of 16 columns; each panel is Kp/32 blocks of (16 k-pairs x 16 columns x
// 2), the "VNNI" order TDPBF16PS reads, so one block is one 1 KiB tile.
inline int64_t packed_index(int64_t k, int64_t n, int64_t Kp) {
  const int64_t panel = n / 16, c = n % 16, kb = k / 32, r = (k % 32) / 2, e = k % 2;
  return ((panel * (Kp / 32) + kb) * 16 + r) * 32 + c * 2 + e;
}

inline int64_t round_up32(int64_t v) { return (v + 31) / 32 * 32; }

struct Bf16Problem {
  int64_t M, N, K;
  const float* A;
  int64_t lda;
  const uint16_t* packed;
  float* C;
  int64_t ldc;
  Bf16Epilogue ep;
};

// Rows [r0, r1) of act(A) (fp32, lda) into Ab (bf16, row length Kp, zero past K). AVX512-BF16.
void convert_rows(uint16_t* Ab, int64_t Kp, const float* A, int64_t lda, int64_t K, Activation act, int64_t r0,
                  int64_t r1);

// The epilogue of a block of C at (row, col): acc holds rows x cols sums (row stride 32).
void finish_block(const float* acc, int64_t rows, int64_t cols, const Bf16Problem& p, int64_t row, int64_t col);

// Rows per chunk of converted A that stays in L2 while a thread's columns pass over it.
inline int64_t chunk_rows(int64_t Kp) {
  const int64_t rows = (1 << 20) / (Kp * 2) / 32 * 32;
  return rows < 32 ? 32 : rows;
}

// C columns of 32-wide blocks [nb0, nb1) for all rows, reading the converted A (Mp x Kp).
void gemm_columns_amx(const Bf16Problem& p, const uint16_t* Ab, int64_t Kp, int64_t nb0, int64_t nb1);

}  // namespace posapl::gemm_bf16_detail
