// Which SIMD paths this CPU can run. Detected once at run time; POSAPL_ISA=avx512|avx2|scalar
// forces a lower path, and set_cpu_isa() switches between the supported paths in process (the
// op tests run every op on every path that way). Switch only between native calls.
#pragma once

namespace posapl {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The path in use: the best the CPU supports, capped by POSAPL_ISA, or what set_cpu_isa chose.
Isa cpu_isa();
// The best path the CPU supports (POSAPL_ISA ignored).
Isa cpu_isa_supported();
// Selects `isa`, capped at what the CPU supports; returns the path now in use.
Isa set_cpu_isa(Isa isa);
const char* isa_name(Isa isa);

// Clears the vector registers' upper state after SIMD work so later SSE code on the thread
// (Node's own included) runs at full speed. parallel_for calls it after every range it runs.
void clear_simd_state();

}  // namespace posapl
