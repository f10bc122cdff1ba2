#include "posapl/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace posapl {

static Isa detect_supported() {
  Isa best = Isa::Scalar;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::Avx2;
  if (best == Isa::Avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    best = Isa::Avx512;
#endif
  return best;
}

static Isa detect() {
  Isa best = cpu_isa_supported();
  const char* want = std::getenv("POSAPL_ISA");
  if (want != nullptr) {
    Isa cap = best;
    if (std::strcmp(want, "scalar") == 0) cap = Isa::Scalar;
    else if (std::strcmp(want, "avx2") == 0) cap = Isa::Avx2;
    else if (std::strcmp(want, "avx512") == 0) cap = Isa::Avx512;
    if (cap < best) best = cap;
  }
  return best;
}

Isa cpu_isa_supported() {
  static const Isa supported = detect_supported();
  return supported;
}

// Read by the pool's threads inside kernels; written only between native calls.
static std::atomic<Isa>& current_isa() {
  static std::atomic<Isa> isa{detect()};
  return isa;
}

Isa cpu_isa() { return current_isa().load(std::memory_order_relaxed); }

Isa set_cpu_isa(Isa isa) {
  const Isa chosen = isa < cpu_isa_supported() ? isa : cpu_isa_supported();
  current_isa().store(chosen, std::memory_order_relaxed);
  return chosen;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace posapl
