// The BF16 GEMM's driver: AMX availability, weight packing, the per-call rounding of A to bf16,
// and the split of C's columns over the threads (gemm_bf16_amx.cc computes them).
#include "posapl/gemm_bf16.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm_bf16_kernels.h"
#include "posapl/cpu_features.h"
#include "posapl/threadpool.h"

#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace posapl {

using gemm_bf16_detail::packed_index;
using gemm_bf16_detail::round_up32;

namespace {

// AMX-BF16 in the CPU and the tile state granted by Linux, which hands out those 8 KiB per
// thread only on request (XFEATURE_XTILEDATA = 18); POSAPL_BF16=none turns it off (tests use it
// for the fallback) and so does POSAPL_ISA below avx512.
bool detect_amx() {
#if defined(__x86_64__) && defined(__linux__)
  if (cpu_isa() != Isa::Avx512) return false;
  const char* want = std::getenv("POSAPL_BF16");
  if (want != nullptr && std::strcmp(want, "none") == 0) return false;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) return false;
  // CPUID.(7,0):EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
  unsigned a = 7, b = 0, c = 0, d = 0;
  asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  if (!((d >> 22) & 1u) || !((d >> 24) & 1u)) return false;
  constexpr long kArchReqXcompPerm = 0x1023;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, 18) == 0;
#else
  return false;
#endif
}

// The converted A of one call, held by the calling thread and kept between calls.
class Bf16Buffer {
 public:
  ~Bf16Buffer() { std::free(data_); }
  uint16_t* get(int64_t elements) {
    if (elements > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      const size_t bytes = static_cast<size_t>((elements * 2 + 63) / 64 * 64);
      data_ = static_cast<uint16_t*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) throw std::bad_alloc();
      capacity_ = elements;
    }
    return data_;
  }

 private:
  uint16_t* data_ = nullptr;
  int64_t capacity_ = 0;
};

}  // namespace

bool bf16_available() {
  // Detected once (it asks Linux for the tile state); a path below avx512 turns it off.
  static const bool available = detect_amx();
  return available && cpu_isa() == Isa::Avx512;
}

int64_t bf16_packed_size(int64_t K, int64_t N) { return round_up32(K) * round_up32(N); }

void bf16_pack(uint16_t* packed, const float* B, int64_t K, int64_t N, bool trans) {
  const int64_t Kp = round_up32(K), Np = round_up32(N);
  // One 16-column panel per task; padding columns and rows stay zero. The inner loop runs
  // along B's rows either way, so both layouts are read in order.
  parallel_for(Np / 16, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t panel = p0; panel < p1; ++panel) {
      if (trans) {
        for (int64_t n = panel * 16; n < panel * 16 + 16; ++n)
          for (int64_t k = 0; k < Kp; ++k)
            packed[packed_index(k, n, Kp)] = n < N && k < K ? float_to_bf16(B[n * K + k]) : 0;
      } else {
        for (int64_t k = 0; k < Kp; ++k)
          for (int64_t n = panel * 16; n < panel * 16 + 16; ++n)
            packed[packed_index(k, n, Kp)] = n < N && k < K ? float_to_bf16(B[k * N + n]) : 0;
      }
    }
  });
}

void gemm_bf16_reference(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed,
                         float* C, int64_t ldc, const Bf16Epilogue& ep) {
  const int64_t Kp = round_up32(K);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        sum += static_cast<double>(bf16_to_float(float_to_bf16(activate(ep.a_act, A[m * lda + k])))) *
               static_cast<double>(bf16_to_float(packed[packed_index(k, n, Kp)]));
      }
      const int64_t at = m * ldc + n;
      float v = ep.alpha * static_cast<float>(sum);
      if (ep.beta != 0.0f) v += ep.beta * C[at];
      if (ep.bias != nullptr) v += ep.bias[n];
      if (ep.residual != nullptr) v += ep.residual[at];
      if (ep.pre != nullptr) ep.pre[at] = v;
      C[at] = activate(ep.act, v);
    }
  }
}

void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed, float* C,
               int64_t ldc, const Bf16Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  const int64_t Kp = round_up32(K), Mp = round_up32(M);
  static thread_local Bf16Buffer buffer;
  uint16_t* Ab = buffer.get(Mp * Kp);
  // Rows past M are zero so the last tiles read defined values.
  parallel_for(Mp, 32, [&](int64_t r0, int64_t r1) {
    const int64_t inside = r1 < M ? r1 : M;
    if (r0 < inside) gemm_bf16_detail::convert_rows(Ab, Kp, A, lda, K, ep.a_act, r0, inside);
    for (int64_t r = r0 > M ? r0 : M; r < r1; ++r)
      for (int64_t k = 0; k < Kp; ++k) Ab[r * Kp + k] = 0;
  });
  const gemm_bf16_detail::Bf16Problem p{M, N, K, A, lda, packed, C, ldc, ep};
  const int64_t col_blocks = (N + 31) / 32;
  parallel_for(col_blocks, 1, [&](int64_t nb0, int64_t nb1) {
    gemm_bf16_detail::gemm_columns_amx(p, Ab, Kp, nb0, nb1);
  });
}

}  // namespace posapl
