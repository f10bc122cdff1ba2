// Leaves the vector unit clean after SIMD kernels. AVX-512 code that touches zmm16-31 or the
// upper halves of the registers leaves state that makes every later SSE instruction on that
// thread pay a transition penalty (measured here: std::exp from 3 ns to 155 ns after a GEMM),
// and Node's own code on the main thread is SSE. vzeroupper clears the upper halves of
// zmm0-15 only, so zmm16-31 are zeroed explicitly first.
#include "posapl/cpu_features.h"

namespace posapl {

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx512f")
static void clear_avx512_state() {
  asm volatile(
      "vpxord %%zmm16, %%zmm16, %%zmm16\n\t vpxord %%zmm17, %%zmm17, %%zmm17\n\t"
      "vpxord %%zmm18, %%zmm18, %%zmm18\n\t vpxord %%zmm19, %%zmm19, %%zmm19\n\t"
      "vpxord %%zmm20, %%zmm20, %%zmm20\n\t vpxord %%zmm21, %%zmm21, %%zmm21\n\t"
      "vpxord %%zmm22, %%zmm22, %%zmm22\n\t vpxord %%zmm23, %%zmm23, %%zmm23\n\t"
      "vpxord %%zmm24, %%zmm24, %%zmm24\n\t vpxord %%zmm25, %%zmm25, %%zmm25\n\t"
      "vpxord %%zmm26, %%zmm26, %%zmm26\n\t vpxord %%zmm27, %%zmm27, %%zmm27\n\t"
      "vpxord %%zmm28, %%zmm28, %%zmm28\n\t vpxord %%zmm29, %%zmm29, %%zmm29\n\t"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\t vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
      "vzeroupper" ::: "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",
      "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "memory");
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx")
static void clear_avx_state() { asm volatile("vzeroupper" ::: "memory"); }
#pragma GCC pop_options
#endif

void clear_simd_state() {
#if defined(__x86_64__)
  const Isa isa = cpu_isa();
  if (isa == Isa::Avx512) clear_avx512_state();
  else if (isa == Isa::Avx2) clear_avx_state();
#endif
}

}  // namespace posapl
