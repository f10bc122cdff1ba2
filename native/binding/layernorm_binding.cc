// layerNormForward, layerNormBackward.
#include "args.h"
#include "posapl/layernorm.h"
#include "registry.h"

namespace posapl::binding {

// (out, mean|null, rstd|null, x, weight, bias, n, c)
static Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormForward", 8);
  const int64_t N = args.dim(6, "n"), C = args.dim(7, "c");
  float* out = args.f32_out(0, "out", args.size({N, C}, "out"));
  float* mean = args.f32_out_or_null(1, "mean", N);
  float* rstd = args.f32_out_or_null(2, "rstd", N);
  const float* x = args.f32_in(3, "x", args.size({N, C}, "x"));
  const float* weight = args.f32_in(4, "weight", C);
  const float* bias = args.f32_in(5, "bias", C);
  args.finish();
  layernorm_forward(out, mean, rstd, x, weight, bias, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("layerNormForward", LayerNormForward);

// (dx, dweight|null, dbias|null, dout, x, weight, mean, rstd, n, c)
static Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args args(info, "layerNormBackward", 10);
  const int64_t N = args.dim(8, "n"), C = args.dim(9, "c");
  float* dx = args.f32_out(0, "dx", args.size({N, C}, "dx"));
  float* dweight = args.f32_out_or_null(1, "dweight", C);
  float* dbias = args.f32_out_or_null(2, "dbias", C);
  const float* dout = args.f32_in(3, "dout", args.size({N, C}, "dout"));
  const float* x = args.f32_in(4, "x", args.size({N, C}, "x"));
  const float* weight = args.f32_in(5, "weight", C);
  const float* mean = args.f32_in(6, "mean", N);
  const float* rstd = args.f32_in(7, "rstd", N);
  args.finish();
  layernorm_backward(dx, dweight, dbias, dout, x, weight, mean, rstd, N, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("layerNormBackward", LayerNormBackward);

}  // namespace posapl::binding
