// The portable GEMM path: plain C++ the compiler vectorises for the baseline ISA (SSE2 on
// x86-64). Used on CPUs without AVX2+FMA and under POSAPL_ISA=scalar.
#include "gemm_kernels.h"

namespace posapl::gemm_detail {

namespace {

constexpr int64_t MR = 4, NR = 8;

// dst (kc,W): dst[k*W + c] = src[k*ld + c] for c < count, zero beyond.
void pack_rows(float* dst, int64_t W, const float* src, int64_t ld, int64_t count, int64_t kc) {
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t c = 0; c < count; ++c) dst[k * W + c] = src[k * ld + c];
    for (int64_t c = count; c < W; ++c) dst[k * W + c] = 0.0f;
  }
}

// dst (kc,W): dst[k*W + r] = src[r*ld + k] for r < count, zero beyond.
void pack_columns(float* dst, int64_t W, const float* src, int64_t ld, int64_t count, int64_t kc) {
  for (int64_t r = 0; r < count; ++r)
    for (int64_t k = 0; k < kc; ++k) dst[k * W + r] = src[r * ld + k];
  for (int64_t r = count; r < W; ++r)
    for (int64_t k = 0; k < kc; ++k) dst[k * W + r] = 0.0f;
}

void pack_a(float* dst, const float* A, int64_t lda, bool trans, int64_t m0, int64_t mc, int64_t k0, int64_t kc) {
  for (int64_t i = 0; i < mc; i += MR, dst += MR * kc) {
    const int64_t rows = mc - i < MR ? mc - i : MR;
    if (trans) pack_rows(dst, MR, A + k0 * lda + m0 + i, lda, rows, kc);
    else pack_columns(dst, MR, A + (m0 + i) * lda + k0, lda, rows, kc);
  }
}

void pack_b(float* dst, const float* B, int64_t ldb, bool trans, int64_t n0, int64_t nc, int64_t k0, int64_t kc) {
  for (int64_t j = 0; j < nc; j += NR, dst += NR * kc) {
    const int64_t cols = nc - j < NR ? nc - j : NR;
    if (trans) pack_columns(dst, NR, B + (n0 + j) * ldb + k0, ldb, cols, kc);
    else pack_rows(dst, NR, B + k0 * ldb + n0 + j, ldb, cols, kc);
  }
}

void kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t mr, int64_t nr,
            const TileEpilogue& ep) {
  float acc[MR][NR] = {};  // (MR,NR)
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int64_t i = 0; i < MR; ++i)
      for (int64_t j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) {
      float v = ep.alpha * acc[i][j];
      float& out = c[i * ldc + j];
      if (!ep.first) v += out;
      else if (ep.beta != 0.0f) v += ep.beta * out;
      if (ep.last) {
        if (ep.bias != nullptr) v += ep.bias[j];
        if (ep.pre != nullptr) ep.pre[i * ldc + j] = v;
        v = activate(ep.act, v);
      }
      out = v;
    }
  }
}

}  // namespace

const GemmKernels& gemm_kernels_scalar() {
  static const GemmKernels kernels{MR, NR, 256, 32 * 1024, 512 * 1024, kernel, pack_a, pack_b};
  return kernels;
}

}  // namespace posapl::gemm_detail
