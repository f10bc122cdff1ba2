// Which SIMD paths this CPU can run. Chosen once at run time; POSAPL_ISA=avx512|avx2|scalar
// forces a lower path (tests use it to check every path against the reference).
#pragma once

namespace posapl {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best path the CPU supports, capped by POSAPL_ISA when set.
Isa cpu_isa();
const char* isa_name(Isa isa);

// Clears the vector registers' upper state after SIMD work so later SSE code on the thread
// (Node's own included) runs at full speed. parallel_for calls it after every range it runs.
void clear_simd_state();

}  // namespace posapl
