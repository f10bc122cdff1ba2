// The fast GEMM: a BLIS-style blocked driver over packed panels and a register-tiled
// micro-kernel chosen at run time (AVX-512, AVX2+FMA or portable, see gemm_kernels.h).
//
// Threads split C into a grid of independent rectangles, each computed with all of K; a thread
// packs the A rows and B columns its rectangle needs, so no thread waits for another.
//
// Loops of one rectangle (rows m0..m1, columns n0..n1):
//   jc over N by NC          B block (KC,NC) packed once per K block
//     pc over K by KC        near-equal K blocks; the epilogue finishes on the last one. KC is
//                            large (1024 for AVX-512) because each K block costs a pass over C
//       ic over M by MC      A block (MC,KC) packed, stays in L2
//         jr over NC by NR   B panel (KC,NR), reused from L1/L2 down the column of tiles
//           ir over MC by MR micro-kernel: (MR,NR) tile of C in registers
#include <algorithm>
#include <cstdlib>
#include <new>

#include "gemm_kernels.h"
#include "posapl/cpu_features.h"
#include "posapl/gemm.h"
#include "posapl/threadpool.h"

namespace posapl {

namespace {

using gemm_detail::GemmKernels;
using gemm_detail::TileEpilogue;

const GemmKernels& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return gemm_detail::gemm_kernels_avx512();
    case Isa::Avx2: return gemm_detail::gemm_kernels_avx2();
    default: return gemm_detail::gemm_kernels_scalar();
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Packing space of the threads of one gemm call, held by the calling thread, grown on demand
// and kept, so steady-state calls allocate nothing. 64-byte aligned for whole-line loads.
class PackBuffer {
 public:
  ~PackBuffer() { std::free(data_); }
  float* get(int64_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      const size_t bytes = static_cast<size_t>(ceil_div(floats * 4, 64) * 64);
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) throw std::bad_alloc();
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha, beta;
  const float* A;  // op(A) (M,K)
  int64_t lda;
  const float* B;  // op(B) (K,N)
  int64_t ldb;
  float* C;  // (M,N)
  int64_t ldc;
  const float* bias;  // (N) or null
  Activation act;
  float* pre;  // (M,N) or null
};

// Threads as a (tm,tn) grid over C, and the cache blocks each thread uses.
struct Plan {
  int64_t tm = 1, tn = 1;
  int64_t k_blocks, kc;  // K as k_blocks near-equal blocks of at most kc
  int64_t mc, nc;        // A block rows, B block columns (multiples of MR, NR)
};

// Splits [0, n) into `parts` ranges whose inner boundaries are multiples of `align`.
int64_t split_point(int64_t n, int64_t parts, int64_t i, int64_t align) {
  if (i >= parts) return n;
  const int64_t units = ceil_div(n, align);
  return std::min(n, units * i / parts * align);
}

// C[m0:m1, n0:n1] on the calling thread; a_pack / b_pack hold one A block and one B block.
// M, N and K are each cut into near-equal blocks no larger than the plan's (tails would cost a
// whole extra pack for a sliver of work).
void gemm_rectangle(const GemmKernels& ks, const Plan& plan, const Problem& p, int64_t m0, int64_t m1, int64_t n0,
                    int64_t n1, float* a_pack, float* b_pack) {
  const int64_t m_blocks = ceil_div(m1 - m0, plan.mc), n_blocks = ceil_div(n1 - n0, plan.nc);
  for (int64_t nb = 0; nb < n_blocks; ++nb) {
    const int64_t jc = n0 + split_point(n1 - n0, n_blocks, nb, ks.nr);
    const int64_t nc = n0 + split_point(n1 - n0, n_blocks, nb + 1, ks.nr) - jc;
    for (int64_t kb = 0; kb < plan.k_blocks; ++kb) {
      const int64_t pc = p.K * kb / plan.k_blocks, kc = p.K * (kb + 1) / plan.k_blocks - pc;
      ks.pack_b(b_pack, p.B, p.ldb, p.trans_b, jc, nc, pc, kc);
      TileEpilogue ep{p.alpha, p.beta, kb == 0, kb == plan.k_blocks - 1, nullptr, nullptr, p.act};
      for (int64_t mb = 0; mb < m_blocks; ++mb) {
        const int64_t ic = m0 + split_point(m1 - m0, m_blocks, mb, ks.mr);
        const int64_t mc = m0 + split_point(m1 - m0, m_blocks, mb + 1, ks.mr) - ic;
        ks.pack_a(a_pack, p.A, p.lda, p.trans_a, ic, mc, pc, kc);
        for (int64_t jr = 0; jr < nc; jr += ks.nr) {
          const int64_t col = jc + jr;
          ep.bias = p.bias != nullptr ? p.bias + col : nullptr;
          for (int64_t ir = 0; ir < mc; ir += ks.mr) {
            const int64_t row = ic + ir;
            ep.pre = p.pre != nullptr ? p.pre + row * p.ldc + col : nullptr;
            ks.kernel(kc, a_pack + ir * kc, b_pack + jr * kc, p.C + row * p.ldc + col, p.ldc,
                      std::min(ks.mr, mc - ir), std::min(ks.nr, nc - jr), ep);
          }
        }
      }
    }
  }
}

// The grid: among those with the most threads the work is worth, the one that packs least per
// thread (K x its columns of B, plus K x its rows of A once per NC block of its columns).
// The blocks: MC and NC as large as the kernels' budgets allow at this KC, and no larger than
// a thread's share, which also bounds the packing memory by the problem's size.
Plan make_plan(const GemmKernels& ks, int64_t M, int64_t N, int64_t K) {
  Plan plan;
  plan.k_blocks = ceil_div(K, ks.kc);
  plan.kc = ceil_div(K, plan.k_blocks);
  const int64_t mc = std::max<int64_t>(1, ks.a_block / plan.kc / ks.mr) * ks.mr;
  const int64_t nc = std::max<int64_t>(1, ks.b_block / plan.kc / ks.nr) * ks.nr;
  const int64_t row_tiles = ceil_div(M, ks.mr), col_tiles = ceil_div(N, ks.nr);
  // Waking a thread costs some microseconds: give each at least ~2^20 multiply-adds.
  const double worth = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) / (1 << 20);
  for (int64_t parts = static_cast<int64_t>(std::min<double>(num_threads(), worth)); parts > 1; --parts) {
    double best_cost = -1;
    for (int64_t tm = 1; tm <= parts; ++tm) {
      const int64_t tn = parts / tm;
      if (tm * tn != parts || tm > row_tiles || tn > col_tiles) continue;
      const int64_t rows = ceil_div(row_tiles, tm) * ks.mr, cols = ceil_div(col_tiles, tn) * ks.nr;
      const double cost = static_cast<double>(cols) + static_cast<double>(rows) * ceil_div(cols, nc);
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        plan.tm = tm;
        plan.tn = tn;
      }
    }
    if (best_cost >= 0) break;
  }
  plan.mc = std::min(mc, ceil_div(row_tiles, plan.tm) * ks.mr);
  plan.nc = std::min(nc, ceil_div(col_tiles, plan.tn) * ks.nr);
  return plan;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const float* bias, Activation act, float* pre) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    // No products to pack: only the epilogue, which the reference states plainly.
    gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, act, pre);
    return;
  }
  const GemmKernels& ks = kernels_for(cpu_isa());
  const Problem p{trans_a, trans_b, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, bias, act, pre};
  const Plan plan = make_plan(ks, M, N, K);
  const int64_t parts = plan.tm * plan.tn;
  // Whole cache lines each, so that every panel starts 64-byte aligned as the kernels load it.
  const int64_t a_floats = ceil_div(plan.mc * plan.kc, 16) * 16, b_floats = ceil_div(plan.nc * plan.kc, 16) * 16;
  // All packing space is taken here, on the calling thread: a worker never allocates.
  static thread_local PackBuffer arena;
  float* const space = arena.get(parts * (a_floats + b_floats));
  parallel_for(parts, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* a_pack = space + t * (a_floats + b_floats);
      const int64_t i = t / plan.tn, j = t % plan.tn;
      gemm_rectangle(ks, plan, p, split_point(M, plan.tm, i, ks.mr), split_point(M, plan.tm, i + 1, ks.mr),
                     split_point(N, plan.tn, j, ks.nr), split_point(N, plan.tn, j + 1, ks.nr), a_pack,
                     a_pack + a_floats);
    }
  });
}

}  // namespace posapl
