// Private to activations.cc: the vectorised paths it picks from at run time (cpu_isa()).
// Each lives in its own file compiled for its ISA; only plain functions cross the boundary.
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl::activation_detail {

// activation_backward over one contiguous range, on one thread: dx = dy * act'(pre).
void activation_backward_avx512(Activation act, float* dx, const float* dy, const float* pre, int64_t n);
void activation_backward_avx2(Activation act, float* dx, const float* dy, const float* pre, int64_t n);

}  // namespace posapl::activation_detail
