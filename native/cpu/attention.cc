#include "posapl/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "posapl/cpu_features.h"
#include "posapl/threadpool.h"

namespace posapl {

namespace {

// Attention for one (batch, head) is five small matrix products and a softmax:
//   forward   S = Q K^T / sqrt(D);  P = softmax(S);  O = P V
//   backward  dP = dO V^T;  dS = P (dP - rowsum(P dP));  dQ = dS K / sqrt(D);
//             dK = dS^T Q / sqrt(D);  dV = P^T dO
// Q, K, V, dO are (L,D) slices of the packed rows. Each product runs through block_product,
// written with GCC vector extensions of the ISA's width W so that its block of 4 rows x 2W
// accumulators stays in registers; every kernel is compiled once per ISA below, from this one
// source (the "scalar" path is SSE2 on x86-64, whatever the target offers elsewhere).

typedef float f32x16 __attribute__((vector_size(64)));
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x4 __attribute__((vector_size(16)));

// Operands are padded to this many columns so that two full vectors can always be read.
constexpr int64_t kPad = 32;
int64_t padded(int64_t n) { return (n + kPad - 1) / kPad * kPad; }

// Which part of a product the causal mask leaves non-zero, so that it is not computed.
enum class Causal {
  None,
  ColsUpToRow,  // C[i,j] is only needed for j <= i (scores)
  KUpToRow,     // A[i,k] is zero for k > i (P, dS)
  KFromRow,     // A[i,k] is zero for k < i (P^T, dS^T)
};

// C[i0..i0+4, j0..j0+NV*W) of block_product below: 4 x NV vectors of accumulators.
template <class V, int NV>
__attribute__((always_inline)) inline void product_block(float* __restrict C, int64_t ldc, const float* const* a,
                                                         int64_t a_col, const float* __restrict B, int64_t ldb,
                                                         int64_t rows, int64_t cols, int64_t k_begin, int64_t k_end,
                                                         float alpha) {
  constexpr int64_t W = sizeof(V) / sizeof(float);
  V c[4][NV] = {};
  for (int64_t k = k_begin; k < k_end; ++k) {
    V b[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&b[v], B + k * ldb + v * W, sizeof(V));
    for (int r = 0; r < 4; ++r) {
      const float ar = a[r][k * a_col];
      for (int v = 0; v < NV; ++v) c[r][v] += ar * b[v];
    }
  }
  float acc[4][NV * W];
  std::memcpy(acc, c, sizeof acc);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < cols; ++t) C[r * ldc + t] = alpha * acc[r][t];
}

// C[i,j] = alpha sum_k A[i*a_row + k*a_col] B[k*ldb + j], for i < M, j < N, k < K.
// B must have padded(N) readable columns per row. Under a mask, entries it zeroes are skipped
// at the granularity of 4-row blocks (ColsUpToRow may write C[i,j] for i < j < block end).
template <class V>
__attribute__((always_inline)) inline void block_product(float* __restrict C, int64_t ldc, const float* __restrict A,
                                                         int64_t a_row, int64_t a_col, const float* __restrict B,
                                                         int64_t ldb, int64_t M, int64_t N, int64_t K, float alpha,
                                                         Causal mask) {
  constexpr int64_t W = sizeof(V) / sizeof(float);
  for (int64_t i0 = 0; i0 < M; i0 += 4) {
    // Rows past M repeat the last one, so the block needs no tail case; they are not stored.
    const float* a[4];
    for (int64_t r = 0; r < 4; ++r) a[r] = A + std::min(i0 + r, M - 1) * a_row;
    const int64_t rows = std::min<int64_t>(4, M - i0);
    const int64_t k_begin = mask == Causal::KFromRow ? i0 : 0;
    const int64_t k_end = mask == Causal::KUpToRow ? std::min(K, i0 + 4) : K;
    const int64_t n_end = mask == Causal::ColsUpToRow ? std::min(N, i0 + 4) : N;
    // Two vectors a row give 8 independent accumulators, enough to hide the FMA latency; a
    // single vector avoids computing a padded half when N fits in one.
    if (N > W) {
      for (int64_t j0 = 0; j0 < n_end; j0 += 2 * W)
        product_block<V, 2>(C + i0 * ldc + j0, ldc, a, a_col, B + j0, ldb, rows, std::min(2 * W, n_end - j0), k_begin,
                            k_end, alpha);
    } else {
      product_block<V, 1>(C + i0 * ldc, ldc, a, a_col, B, ldb, rows, n_end, k_begin, k_end, alpha);
    }
  }
}

// exp(x) for the softmax's x - max <= 0, within 2 ulp (Cephes expf: x = n ln2 + r, a degree-6
// polynomial for e^r, 2^n put in the exponent bits). Plain arithmetic, unlike a libm call, so
// the loop over a row vectorises. Below -87 the result would leave the normal range: clamped.
__attribute__((always_inline)) inline float exp_nonpositive(float x) {
  x = std::max(x, -87.0f);
  const float round_magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  const float n = (x * 1.44269504088896341f + round_magic) - round_magic;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln2 split in two for exactness
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, sizeof two_n);
  return p * two_n;
}

// Row reductions in W lanes: one running float would be a serial chain the compiler may not
// reorder. `lanes` (a V) and the tail are added at the end.
template <class V>
__attribute__((always_inline)) inline float lanes_total(const V& lanes, float tail) {
  for (size_t t = 0; t < sizeof(V) / sizeof(float); ++t) tail += lanes[t];
  return tail;
}

// sum_j a[j] b[j] over j < n.
template <class V>
__attribute__((always_inline)) inline float row_dot(const float* __restrict a, const float* __restrict b, int64_t n) {
  constexpr int64_t W = sizeof(V) / sizeof(float);
  V acc = {};
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V x, y;
    std::memcpy(&x, a + j, sizeof x);
    std::memcpy(&y, b + j, sizeof y);
    acc += x * y;
  }
  float tail = 0.0f;
  for (; j < n; ++j) tail += a[j] * b[j];
  return lanes_total(acc, tail);
}

// sum_j a[j] over j < n.
template <class V>
__attribute__((always_inline)) inline float row_sum(const float* __restrict a, int64_t n) {
  constexpr int64_t W = sizeof(V) / sizeof(float);
  V acc = {};
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V x;
    std::memcpy(&x, a + j, sizeof x);
    acc += x;
  }
  float tail = 0.0f;
  for (; j < n; ++j) tail += a[j];
  return lanes_total(acc, tail);
}

// max_j a[j] over j < n (n >= 1).
template <class V>
__attribute__((always_inline)) inline float row_max(const float* __restrict a, int64_t n) {
  constexpr int64_t W = sizeof(V) / sizeof(float);
  float mx = a[0];
  int64_t j = 0;
  if (n >= W) {
    V m;
    std::memcpy(&m, a, sizeof m);
    for (j = W; j + W <= n; j += W) {
      V x;
      std::memcpy(&x, a + j, sizeof x);
      m = x > m ? x : m;
    }
    for (int64_t t = 0; t < W; ++t) mx = std::max(mx, m[t]);
  }
  for (; j < n; ++j) mx = std::max(mx, a[j]);
  return mx;
}

// Row p (L) of scores -> softmax over its first n entries (max subtracted); the rest become 0.
template <class V>
__attribute__((always_inline)) inline void softmax_row(float* __restrict p, int64_t n, int64_t L) {
  const float mx = row_max<V>(p, n);
  for (int64_t j = 0; j < n; ++j) p[j] = exp_nonpositive(p[j] - mx);
  const float inv = 1.0f / row_sum<V>(p, n);
  for (int64_t j = 0; j < n; ++j) p[j] *= inv;
  for (int64_t j = n; j < L; ++j) p[j] = 0.0f;
}

struct Problem {
  int64_t B, L, H, D;
  bool causal;
  int64_t row() const { return 3 * H * D; }  // floats per token in qkv
  int64_t visible(int64_t i) const { return causal ? i + 1 : L; }
  // Scratch floats for one head: a (D,padded L) transpose, three (L,padded D) copies, one (L,L).
  int64_t scratch_floats() const { return D * padded(L) + 3 * L * padded(D) + L * L; }
};

// rows (L,D) at stride `stride` -> (L,padded D) at dst; the padding keeps its zeros.
inline void copy_rows(float* __restrict dst, const float* __restrict src, int64_t stride, int64_t L, int64_t D) {
  for (int64_t t = 0; t < L; ++t) std::memcpy(dst + t * padded(D), src + t * stride, D * sizeof(float));
}

// rows (L,D) at stride `stride` -> their transpose (D,padded L) at dst.
inline void transpose_rows(float* __restrict dst, const float* __restrict src, int64_t stride, int64_t L,
                           int64_t D) {
  for (int64_t t = 0; t < L; ++t)
    for (int64_t d = 0; d < D; ++d) dst[d * padded(L) + t] = src[t * stride + d];
}

// One (b,h): qkv (L, 3HD) and out (L, HD) point at batch b; probs (L,L) at this head, or null.
template <class V>
__attribute__((always_inline)) inline void forward_head(float* out, float* probs, const float* qkv, int64_t h,
                                                        const Problem& pb, float* scratch) {
  const int64_t L = pb.L, D = pb.D, R = pb.row(), HD = pb.H * pb.D;
  const Causal tri = pb.causal ? Causal::ColsUpToRow : Causal::None;
  const Causal lower = pb.causal ? Causal::KUpToRow : Causal::None;
  const float* q = qkv + h * D;
  float* kt = scratch;                  // (D, padded L)
  float* vp = kt + D * padded(L);       // (L, padded D)
  float* p = probs != nullptr ? probs : vp + 3 * L * padded(D);  // (L,L)
  transpose_rows(kt, qkv + HD + h * D, R, L, D);
  copy_rows(vp, qkv + 2 * HD + h * D, R, L, D);
  // Scaling the product rather than q first, as torch does, is exact for D a power of 4.
  block_product<V>(p, L, q, R, 1, kt, padded(L), L, L, D, 1.0f / std::sqrt(static_cast<float>(D)), tri);
  for (int64_t i = 0; i < L; ++i) softmax_row<V>(p + i * L, pb.visible(i), L);
  block_product<V>(out + h * D, HD, p, L, 1, vp, padded(D), L, D, L, 1.0f, lower);
}

// One (b,h): dqkv, qkv (L, 3HD) and dout (L, HD) point at batch b; probs (L,L) at this head.
template <class V>
__attribute__((always_inline)) inline void backward_head(float* dqkv, const float* dout, const float* qkv,
                                                         const float* probs, int64_t h, const Problem& pb,
                                                         float* scratch) {
  const int64_t L = pb.L, D = pb.D, R = pb.row(), HD = pb.H * pb.D;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const Causal tri = pb.causal ? Causal::ColsUpToRow : Causal::None;
  const Causal lower = pb.causal ? Causal::KUpToRow : Causal::None;
  const Causal upper = pb.causal ? Causal::KFromRow : Causal::None;
  float* vt = scratch;                 // (D, padded L)
  float* qp = vt + D * padded(L);      // (L, padded D)
  float* kp = qp + L * padded(D);      // (L, padded D)
  float* dop = kp + L * padded(D);     // (L, padded D)
  float* ds = dop + L * padded(D);     // (L,L): dP, then dS in place
  transpose_rows(vt, qkv + 2 * HD + h * D, R, L, D);
  copy_rows(qp, qkv + h * D, R, L, D);
  copy_rows(kp, qkv + HD + h * D, R, L, D);
  copy_rows(dop, dout + h * D, HD, L, D);

  block_product<V>(ds, L, dout + h * D, HD, 1, vt, padded(L), L, L, D, 1.0f, tri);  // dP = dO V^T
  for (int64_t i = 0; i < L; ++i) {
    const int64_t n = pb.visible(i);
    const float* p = probs + i * L;  // (L)
    float* d = ds + i * L;           // (L)
    const float dot = row_dot<V>(p, d, n);
    for (int64_t j = 0; j < n; ++j) d[j] = p[j] * (d[j] - dot);
    for (int64_t j = n; j < L; ++j) d[j] = 0.0f;
  }
  block_product<V>(dqkv + h * D, R, ds, L, 1, kp, padded(D), L, D, L, scale, lower);           // dQ
  block_product<V>(dqkv + HD + h * D, R, ds, 1, L, qp, padded(D), L, D, L, scale, upper);      // dK
  block_product<V>(dqkv + 2 * HD + h * D, R, probs, 1, L, dop, padded(D), L, D, L, 1.0f, upper);  // dV
}

// Heads [h0, h1) of the flattened (B,H) range, sharing one scratch block.
#define POSAPL_ATTENTION_KERNELS(suffix, vector, isa_target)                                                  \
  isa_target void forward_heads_##suffix(float* out, float* probs, const float* qkv, const Problem& pb,      \
                                         int64_t h0, int64_t h1, float* scratch) {                          \
    for (int64_t bh = h0; bh < h1; ++bh) {                                                                  \
      const int64_t b = bh / pb.H;                                                                          \
      forward_head<vector>(out + b * pb.L * pb.H * pb.D, probs != nullptr ? probs + bh * pb.L * pb.L : nullptr, \
                           qkv + b * pb.L * pb.row(), bh % pb.H, pb, scratch);                              \
    }                                                                                                       \
  }                                                                                                         \
  isa_target void backward_heads_##suffix(float* dqkv, const float* dout, const float* qkv,                  \
                                          const float* probs, const Problem& pb, int64_t h0, int64_t h1,    \
                                          float* scratch) {                                                 \
    for (int64_t bh = h0; bh < h1; ++bh) {                                                                  \
      const int64_t b = bh / pb.H;                                                                          \
      backward_head<vector>(dqkv + b * pb.L * pb.row(), dout + b * pb.L * pb.H * pb.D, qkv + b * pb.L * pb.row(), \
                            probs + bh * pb.L * pb.L, bh % pb.H, pb, scratch);                              \
    }                                                                                                       \
  }

POSAPL_ATTENTION_KERNELS(scalar, f32x4, )
#if defined(__x86_64__)
POSAPL_ATTENTION_KERNELS(avx2, f32x8, __attribute__((target("avx2,fma"))))
POSAPL_ATTENTION_KERNELS(avx512, f32x16,
                         __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,prefer-vector-width=512"))))
#endif
#undef POSAPL_ATTENTION_KERNELS

using ForwardHeads = void (*)(float*, float*, const float*, const Problem&, int64_t, int64_t, float*);
using BackwardHeads = void (*)(float*, const float*, const float*, const float*, const Problem&, int64_t, int64_t,
                               float*);

ForwardHeads forward_kernel() {
#if defined(__x86_64__)
  switch (cpu_isa()) {
    case Isa::Avx512: return forward_heads_avx512;
    case Isa::Avx2: return forward_heads_avx2;
    default: break;
  }
#endif
  return forward_heads_scalar;
}

BackwardHeads backward_kernel() {
#if defined(__x86_64__)
  switch (cpu_isa()) {
    case Isa::Avx512: return backward_heads_avx512;
    case Isa::Avx2: return backward_heads_avx2;
    default: break;
  }
#endif
  return backward_heads_scalar;
}

// Splits the B*H heads into one contiguous share per thread, each with its own zeroed scratch
// block, allocated here so that no worker allocates (or can throw).
template <class RunHeads>
void over_heads(const Problem& pb, RunHeads run) {
  const int64_t heads = pb.B * pb.H;
  const int64_t work = heads * pb.L * pb.L * pb.D;  // multiply-adds of one product
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>({num_threads(), heads, work >> 15}));
  const int64_t slot = pb.scratch_floats();
  std::vector<float> scratch(static_cast<size_t>(parts * slot));
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) run(heads * p / parts, heads * (p + 1) / parts, scratch.data() + p * slot);
  });
}

}  // namespace

void attention_forward(float* out, float* probs, const float* qkv, int64_t B, int64_t L, int64_t H, int64_t D,
                       bool causal) {
  const Problem pb{B, L, H, D, causal};
  const ForwardHeads kernel = forward_kernel();
  over_heads(pb, [&](int64_t h0, int64_t h1, float* scratch) { kernel(out, probs, qkv, pb, h0, h1, scratch); });
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* probs, int64_t B, int64_t L,
                        int64_t H, int64_t D, bool causal) {
  const Problem pb{B, L, H, D, causal};
  const BackwardHeads kernel = backward_kernel();
  over_heads(pb,
             [&](int64_t h0, int64_t h1, float* scratch) { kernel(dqkv, dout, qkv, probs, pb, h0, h1, scratch); });
}

}  // namespace posapl
