// l2NormForward, l2NormBackward.
#include "args.h"
#include "posapl/l2norm.h"
#include "registry.h"

namespace posapl::binding {

// (out, x, n, c)
static Napi::Value L2NormForward(const Napi::CallbackInfo& info) {
  Args args(info, "l2NormForward", 4);
  const int64_t N = args.dim(2, "n"), C = args.dim(3, "c");
  float* out = args.f32_out(0, "out", args.size({N, C}, "out"));
  const float* x = args.f32_in(1, "x", args.size({N, C}, "x"));
  args.finish();
  l2norm_forward(out, x, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("l2NormForward", L2NormForward);

// (dx, dout, x, n, c)
static Napi::Value L2NormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "l2NormBackward", 5);
  const int64_t N = args.dim(3, "n"), C = args.dim(4, "c");
  float* dx = args.f32_out(0, "dx", args.size({N, C}, "dx"));
  const float* dout = args.f32_in(1, "dout", args.size({N, C}, "dout"));
  const float* x = args.f32_in(2, "x", args.size({N, C}, "x"));
  args.finish();
  l2norm_backward(dx, dout, x, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("l2NormBackward", L2NormBackward);

}  // namespace posapl::binding
