// tokenMeanForward, tokenMeanBackward, broadcastAddForward, broadcastAddBackward.
#include "args.h"
#include "posapl/token_mean.h"
#include "registry.h"

namespace posapl::binding {

// (out, x, b, l, c)
static Napi::Value TokenMeanForward(const Napi::CallbackInfo& info) {
  Args args(info, "tokenMeanForward", 5);
  const int64_t B = args.dim(2, "b"), L = args.dim(3, "l"), C = args.dim(4, "c");
  float* out = args.f32_out(0, "out", args.size({B, C}, "out"));
  const float* x = args.f32_in(1, "x", args.size({B, L, C}, "x"));
  args.finish();
  token_mean_forward(out, x, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("tokenMeanForward", TokenMeanForward);

// (dx, dout, b, l, c)
static Napi::Value TokenMeanBackward(const Napi::CallbackInfo& info) {
  Args args(info, "tokenMeanBackward", 5);
  const int64_t B = args.dim(2, "b"), L = args.dim(3, "l"), C = args.dim(4, "c");
  float* dx = args.f32_out(0, "dx", args.size({B, L, C}, "dx"));
  const float* dout = args.f32_in(1, "dout", args.size({B, C}, "dout"));
  args.finish();
  token_mean_backward(dx, dout, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("tokenMeanBackward", TokenMeanBackward);

// (out, x, s, b, l, c)
static Napi::Value BroadcastAddForward(const Napi::CallbackInfo& info) {
  Args args(info, "broadcastAddForward", 6);
  const int64_t B = args.dim(3, "b"), L = args.dim(4, "l"), C = args.dim(5, "c");
  float* out = args.f32_out(0, "out", args.size({B, L, C}, "out"));
  const float* x = args.f32_in(1, "x", args.size({B, L, C}, "x"));
  const float* s = args.f32_in(2, "s", args.size({B, C}, "s"));
  args.finish();
  broadcast_add_forward(out, x, s, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("broadcastAddForward", BroadcastAddForward);

// (ds, dout, b, l, c)
static Napi::Value BroadcastAddBackward(const Napi::CallbackInfo& info) {
  Args args(info, "broadcastAddBackward", 5);
  const int64_t B = args.dim(2, "b"), L = args.dim(3, "l"), C = args.dim(4, "c");
  float* ds = args.f32_out(0, "ds", args.size({B, C}, "ds"));
  const float* dout = args.f32_in(1, "dout", args.size({B, L, C}, "dout"));
  args.finish();
  broadcast_add_backward(ds, dout, B, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("broadcastAddBackward", BroadcastAddBackward);

}  // namespace posapl::binding
