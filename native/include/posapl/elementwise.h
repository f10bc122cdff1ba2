// Element-wise sums the model needs between ops (residuals, the POS stream into the text input),
// kept native so that no per-element loop runs in JavaScript.
#pragma once

#include <cstdint>

namespace posapl {

// y (n) += alpha * x (n).
void axpy(float* y, const float* x, float alpha, int64_t n);

// out (n) = a (n) + b (n).
void add(float* out, const float* a, const float* b, int64_t n);

}  // namespace posapl
