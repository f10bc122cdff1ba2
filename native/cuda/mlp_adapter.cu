// The MLP adapter on the device: the steps every backend shares (posapl/mlp_adapter_steps.h) over the CUDA
// primitives (step_ops.h), in exact fp32 whatever the math mode (cuda_common.cuh).
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/mlp_adapter_steps.h"
#include "step_ops.h"

namespace posapl::cuda {

void mlp_adapter_forward(float* out, float* saved, const float* x, const float* w1, const float* b1, const float* w2,
                         const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  const ExactFp32Scope exact;
  mlp_adapter_forward_steps<CudaStepOps>(out, saved, x, w1, b1, w2, b2, rows, C, R, Cout);
}

void mlp_adapter_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                          const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                          int64_t rows, int64_t C, int64_t R, int64_t Cout) {
  const ExactFp32Scope exact;
  mlp_adapter_backward_steps<CudaStepOps>(dx, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, C, R, Cout);
}

}  // namespace posapl::cuda
