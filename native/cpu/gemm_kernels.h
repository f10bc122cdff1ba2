// Private to the GEMM: the pieces each SIMD path supplies to the blocked driver in gemm.cc.
//
// The driver follows BLIS / GotoBLAS: op(A) and op(B) are copied ("packed") block by block
// into contiguous panels whose layout the micro-kernel reads with unit stride, whatever
// trans_a / trans_b and lda / ldb were. The micro-kernel keeps an (MR,NR) tile of C in
// registers over one K block and then applies the epilogue to C once.
//
// Each path lives in its own file compiled for its ISA (gemm_avx512.cc, gemm_avx2.cc) or
// for the baseline (gemm_scalar.cc); only plain functions cross the boundary, so no inline
// code compiled for a wider ISA can leak into code that runs on a CPU without it.
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl::gemm_detail {

// What happens to C once a tile's K block is summed: acc is alpha * sum_k a b.
//   first K block:  C = acc + beta * C       (C is not read when beta == 0)
//   later blocks:   C = acc + C
//   last K block:   v = (the above) + bias;  pre = v;  C = act(v)
struct TileEpilogue {
  float alpha;
  float beta;
  bool first;
  bool last;
  const float* bias;  // (N) or null, offset to the tile's first column
  float* pre;         // (M,N) with ldc, or null, offset to the tile
  Activation act;
};

// Packed panels: a_panel (kc,MR) and b_panel (kc,NR), k-major and zero-padded past the edge;
// b_panel is 64-byte aligned.
// Writes the (mr,nr) top-left part of the (MR,NR) tile to c (leading dim ldc).
using MicroKernel = void (*)(int64_t kc, const float* a_panel, const float* b_panel, float* c, int64_t ldc,
                             int64_t mr, int64_t nr, const TileEpilogue& ep);

// Packs op(A) rows [m0, m0+mc) x columns [k0, k0+kc) into ceil(mc/MR) panels (kc,MR), where
// op(A)(m,k) is A[m*lda + k], or A[k*lda + m] with trans. Rows past mc are zero.
using PackA = void (*)(float* dst, const float* A, int64_t lda, bool trans, int64_t m0, int64_t mc, int64_t k0,
                       int64_t kc);
// Packs op(B) rows [k0, k0+kc) x columns [n0, n0+nc) into ceil(nc/NR) panels (kc,NR), where
// op(B)(k,n) is B[k*ldb + n], or B[n*ldb + k] with trans. Columns past nc are zero.
using PackB = void (*)(float* dst, const float* B, int64_t ldb, bool trans, int64_t n0, int64_t nc, int64_t k0,
                       int64_t kc);

struct GemmKernels {
  int64_t mr, nr;   // register tile of the micro-kernel
  int64_t kc;       // largest K block
  int64_t a_block;  // floats in a packed A block (MC,KC), meant to stay in L2: sets MC
  int64_t b_block;  // floats in a packed B block (KC,NC): sets NC
  MicroKernel kernel;
  PackA pack_a;
  PackB pack_b;
};

// Each returns its path's kernels; call a SIMD one only when cpu_isa() allows it.
const GemmKernels& gemm_kernels_avx512();
const GemmKernels& gemm_kernels_avx2();
const GemmKernels& gemm_kernels_scalar();

}  // namespace posapl::gemm_detail
