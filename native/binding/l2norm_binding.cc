// l2NormForward, l2NormBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/l2norm.h"
#include "registry.h"

namespace posapl::binding {

// (out, x, n, c)
static Napi::Value L2NormForward(const Napi::CallbackInfo& info) {
  Args args(info, "l2NormForward");
  const int64_t N = args.dim("n"), C = args.dim("c");
  float* out = args.f32_out("out", args.size({N, C}, "out"));
  const float* x = args.f32_in("x", args.size({N, C}, "x"));
  args.finish();
  active_backend().l2norm_forward(out, x, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("l2NormForward", L2NormForward);

// (dx, dout, x, n, c)
static Napi::Value L2NormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "l2NormBackward");
  const int64_t N = args.dim("n"), C = args.dim("c");
  float* dx = args.f32_out("dx", args.size({N, C}, "dx"));
  const float* dout = args.f32_in("dout", args.size({N, C}, "dout"));
  const float* x = args.f32_in("x", args.size({N, C}, "x"));
  args.finish();
  active_backend().l2norm_backward(dx, dout, x, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("l2NormBackward", L2NormBackward);

}  // namespace posapl::binding
