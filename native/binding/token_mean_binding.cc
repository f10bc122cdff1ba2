// tokenMeanForward, tokenMeanBackward, broadcastAddForward, broadcastAddBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/token_mean.h"
#include "registry.h"

namespace posapl::binding {

// (out, x, b, l, c)
static Napi::Value TokenMeanForward(const Napi::CallbackInfo& info) {
  Args args(info, "tokenMeanForward");
  const int64_t B = args.dim("b"), L = args.dim("l"), C = args.dim("c");
  float* out = args.f32_out("out", args.size({B, C}, "out"));
  const float* x = args.f32_in("x", args.size({B, L, C}, "x"));
  args.finish();
  active_backend().token_mean_forward(out, x, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("tokenMeanForward", TokenMeanForward);

// (dx, dout, b, l, c)
static Napi::Value TokenMeanBackward(const Napi::CallbackInfo& info) {
  Args args(info, "tokenMeanBackward");
  const int64_t B = args.dim("b"), L = args.dim("l"), C = args.dim("c");
  float* dx = args.f32_out("dx", args.size({B, L, C}, "dx"));
  const float* dout = args.f32_in("dout", args.size({B, C}, "dout"));
  args.finish();
  active_backend().token_mean_backward(dx, dout, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("tokenMeanBackward", TokenMeanBackward);

// (out, x, s, b, l, c)
static Napi::Value BroadcastAddForward(const Napi::CallbackInfo& info) {
  Args args(info, "broadcastAddForward");
  const int64_t B = args.dim("b"), L = args.dim("l"), C = args.dim("c");
  float* out = args.f32_out("out", args.size({B, L, C}, "out"));
  const float* x = args.f32_in("x", args.size({B, L, C}, "x"));
  const float* s = args.f32_in("s", args.size({B, C}, "s"));
  args.finish();
  active_backend().broadcast_add_forward(out, x, s, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("broadcastAddForward", BroadcastAddForward);

// (ds, dout, b, l, c)
static Napi::Value BroadcastAddBackward(const Napi::CallbackInfo& info) {
  Args args(info, "broadcastAddBackward");
  const int64_t B = args.dim("b"), L = args.dim("l"), C = args.dim("c");
  float* ds = args.f32_out("ds", args.size({B, C}, "ds"));
  const float* dout = args.f32_in("dout", args.size({B, L, C}, "dout"));
  args.finish();
  active_backend().broadcast_add_backward(ds, dout, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("broadcastAddBackward", BroadcastAddBackward);

}  // namespace posapl::binding
