// Which SIMD paths this CPU can run. Chosen once at run time; POSAPL_ISA=avx512|avx2|scalar
// forces a lower path (tests use it to check every path against the reference).
#pragma once

namespace posapl {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best path the CPU supports, capped by POSAPL_ISA when set.
Isa cpu_isa();
const char* isa_name(Isa isa);

}  // namespace posapl
