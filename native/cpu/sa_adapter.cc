#include "posapl/sa_adapter.h"

#include "posapl/sa_adapter_steps.h"
#include "step_ops.h"

namespace posapl {

void sa_adapter_forward(float* out, float* saved, const float* m, const float* wd, const float* bd,
                        const float* win, const float* bin, const float* wo, const float* bo, const float* wu,
                        const float* bu, int64_t N, int64_t L, int64_t C, int64_t R, int64_t H) {
  sa_adapter_forward_steps<CpuStepOps>(out, saved, m, wd, bd, win, bin, wo, bo, wu, bu, N, L, C, R, H);
}

void sa_adapter_backward(float* dm, float* dwd, float* dbd, float* dwin, float* dbin, float* dwo, float* dbo,
                         float* dwu, float* dbu, float* scratch, const float* dout, const float* m, const float* wd,
                         const float* win, const float* wo, const float* wu, const float* saved, int64_t N,
                         int64_t L, int64_t C, int64_t R, int64_t H) {
  sa_adapter_backward_steps<CpuStepOps>(dm, dwd, dbd, dwin, dbin, dwo, dbo, dwu, dbu, scratch, dout, m, wd, win, wo,
      wu, saved, N, L, C, R, H);
}

}  // namespace posapl
