// BF16 GEMM against a pre-packed frozen weight, fp32 in and out, fp32 accumulation.
//
//   C(M,N) = act( alpha * bf16(A) bf16(op(B)) + beta * C + bias )
//
// op(B) (K,N) is packed once (bf16_pack) into the tile layout the kernel reads; A (M,K) fp32
// row-major is rounded to bf16 (nearest even) on each call. Used for the frozen backbone's
// Linears in precision 'bf16': forward y = x W^T packs W with transpose, the input gradient
// dx = dy W packs it without.
//
// The kernel uses AMX tiles (TDPBF16PS) where the CPU and the OS allow it (bf16_available());
// elsewhere callers use the fp32 `gemm` (a VDPBF16PS kernel was no faster than fp32 here).
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl {

// Whether the AMX-BF16 path can run here: CPU support and the kernel's permission for tile
// data (arch_prctl ARCH_REQ_XCOMP_PERM), asked once. POSAPL_BF16=none or POSAPL_ISA below
// avx512 turns it off.
bool bf16_available();

// Elements (uint16) of a packed op(B) (K,N): K and N rounded up to 32.
int64_t bf16_packed_size(int64_t K, int64_t N);

// Packs op(B) (K,N) into `packed` (bf16_packed_size elements): op(B)(k,n) is B[k*N + n], or
// with trans B[n*K + k] (a torch Linear weight W (N,K) for y = x W^T). Padding is zero.
void bf16_pack(uint16_t* packed, const float* B, int64_t K, int64_t N, bool trans);

// Round to nearest even, as torch's .to(torch.bfloat16); NaN stays NaN.
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  __builtin_memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// What surrounds the product: the operand A is read through a_act (so the GELU of an MLP can
// be applied as its output is consumed rather than stored), and the result is
//   v = alpha * a_act(A) op(B) + beta * C + bias + residual;  pre = v;  C = act(v)
// pre and residual are (M,N) with ldc, or null (a residual spares copying it into C first).
struct Bf16Epilogue {
  Activation a_act = Activation::None;
  float alpha = 1.0f;
  float beta = 0.0f;
  const float* bias = nullptr;  // (N)
  const float* residual = nullptr;
  Activation act = Activation::None;
  float* pre = nullptr;
};

// The product above with op(B) packed; A (M,K) row-major with leading dim lda, C (M,N) with ldc.
// Requires bf16_available().
void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed, float* C,
               int64_t ldc, const Bf16Epilogue& ep);

// The same contract with plain loops over the bf16-rounded operands and double accumulation:
// the reference tests check the AMX path against. Runs on any CPU.
void gemm_bf16_reference(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed,
                         float* C, int64_t ldc, const Bf16Epilogue& ep);

}  // namespace posapl
