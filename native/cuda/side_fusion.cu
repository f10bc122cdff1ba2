// Side Fusion on the device: the steps every backend shares (posapl/side_fusion_steps.h) over the CUDA
// primitives (step_ops.h), in exact fp32 whatever the math mode (cuda_common.cuh).
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/side_fusion_steps.h"
#include "step_ops.h"

namespace posapl::cuda {

void side_fusion_forward(float* s4, float* saved, const float* f1, const float* f2, const float* f3, const float* f4,
                         const float* w1, const float* b1, const float* w2, const float* b2, const float* w3,
                         const float* b3, const float* w4, const float* b4, int64_t N, int64_t L, int64_t C,
                         bool chained, bool mean) {
  const ExactFp32Scope exact;
  side_fusion_forward_steps<CudaStepOps>(s4, saved, f1, f2, f3, f4, w1, b1, w2, b2, w3, b3, w4, b4, N, L, C, chained,
      mean);
}

void side_fusion_backward(float* df1, float* df2, float* df3, float* df4, float* dw1, float* db1, float* dw2,
                          float* db2, float* dw3, float* db3, float* dw4, float* db4, float* scratch,
                          const float* ds4, const float* f1, const float* f2, const float* f3, const float* w1,
                          const float* w2, const float* w3, const float* w4, const float* saved, int64_t N,
                          int64_t L, int64_t C, bool chained, bool mean) {
  const ExactFp32Scope exact;
  side_fusion_backward_steps<CudaStepOps>(df1, df2, df3, df4, dw1, db1, dw2, db2, dw3, db3, dw4, db4, scratch, ds4,
      f1, f2, f3, w1, w2, w3, w4, saved, N, L, C, chained, mean);
}

}  // namespace posapl::cuda
