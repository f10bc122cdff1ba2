// The MLP adapter ("AdapterMLPZeroInit"): out = Linear2(ReLU(Linear1(x))), per token.
// The POS connector is 512 -> 512 -> 512, the per-layer POS adapters 512 -> 128 -> 512.
// Torch layouts: w1 (R,C), b1 (R), w2 (Cout,R), b2 (Cout).
#pragma once

#include <cstdint>

namespace posapl {

// Floats the forward saves for the backward: h = ReLU(Linear1(x)) (rows,R).
inline int64_t mlp_adapter_saved_size(int64_t rows, int64_t R) { return rows * R; }
// Floats of scratch the backward needs: dh (rows,R).
inline int64_t mlp_adapter_scratch_size(int64_t rows, int64_t R) { return rows * R; }

// out (rows,Cout); saved (mlp_adapter_saved_size); x (rows,C). rows = every token, N*L.
void mlp_adapter_forward(float* out, float* saved, const float* x, const float* w1, const float* b1,
                         const float* w2, const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout);

// dx (rows,C) is overwritten, or null when not needed; dw1, db1, dw2, db2 are accumulated (+=).
// scratch (mlp_adapter_scratch_size) is clobbered; dout (rows,Cout); saved as the forward left it.
void mlp_adapter_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                          const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                          int64_t rows, int64_t C, int64_t R, int64_t Cout);

}  // namespace posapl
