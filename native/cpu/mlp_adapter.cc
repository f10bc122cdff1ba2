#include "posapl/mlp_adapter.h"

#include "posapl/mlp_adapter_steps.h"
#include "step_ops.h"

namespace posapl {

void mlp_adapter_forward(float* out, float* saved, const float* x, const float* w1, const float* b1,
                         const float* w2, const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  mlp_adapter_forward_steps<CpuStepOps>(out, saved, x, w1, b1, w2, b2, rows, C, R, Cout);
}

void mlp_adapter_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                          const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                          int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  mlp_adapter_backward_steps<CpuStepOps>(dx, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, C, R, Cout);
}

}  // namespace posapl
