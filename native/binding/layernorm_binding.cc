// layerNormForward, layerNormBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/layernorm.h"
#include "registry.h"

namespace posapl::binding {

// (out, mean|null, rstd|null, x, weight, bias, n, c)
static Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormForward");
  const int64_t N = args.dim("n"), C = args.dim("c");
  float* out = args.f32_out("out", args.size({N, C}, "out"));
  float* mean = args.f32_out_or_null("mean", N);
  float* rstd = args.f32_out_or_null("rstd", N);
  const float* x = args.f32_in("x", args.size({N, C}, "x"));
  const float* weight = args.f32_in("weight", C);
  const float* bias = args.f32_in("bias", C);
  args.finish();
  active_backend().layernorm_forward(out, mean, rstd, x, weight, bias, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("layerNormForward", LayerNormForward);

// (dx, dweight|null, dbias|null, dout, x, weight, mean, rstd, n, c)
static Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormBackward");
  const int64_t N = args.dim("n"), C = args.dim("c");
  float* dx = args.f32_out("dx", args.size({N, C}, "dx"));
  float* dweight = args.f32_out_or_null("dweight", C);
  float* dbias = args.f32_out_or_null("dbias", C);
  const float* dout = args.f32_in("dout", args.size({N, C}, "dout"));
  const float* x = args.f32_in("x", args.size({N, C}, "x"));
  const float* weight = args.f32_in("weight", C);
  const float* mean = args.f32_in("mean", N);
  const float* rstd = args.f32_in("rstd", N);
  args.finish();
  active_backend().layernorm_backward(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("layerNormBackward", LayerNormBackward);

}  // namespace posapl::binding
