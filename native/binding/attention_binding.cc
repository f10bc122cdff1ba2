// attentionForward, attentionBackward.
#include "args.h"
#include "posapl/attention.h"
#include "registry.h"

namespace posapl::binding {

// (out, probs|null, qkv, b, l, h, d, causal)
static Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args args(info, "attentionForward", 8);
  const int64_t B = args.dim(3, "b"), L = args.dim(4, "l"), H = args.dim(5, "h"), D = args.dim(6, "d");
  const bool causal = args.flag(7, "causal");
  float* out = args.f32_out(0, "out", args.size({B, L, H, D}, "out"));
  float* probs = args.f32_out_or_null(1, "probs", args.size({B, H, L, L}, "probs"));
  const float* qkv = args.f32_in(2, "qkv", args.size({B, L, 3, H, D}, "qkv"));
  args.finish();
  attention_forward(out, probs, qkv, B, L, H, D, causal);
  return info.Env().Undefined();
}
POSAPL_EXPORT("attentionForward", AttentionForward);

// (dqkv, dout, qkv, probs, b, l, h, d, causal)
static Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args args(info, "attentionBackward", 9);
  const int64_t B = args.dim(4, "b"), L = args.dim(5, "l"), H = args.dim(6, "h"), D = args.dim(7, "d");
  const bool causal = args.flag(8, "causal");
  float* dqkv = args.f32_out(0, "dqkv", args.size({B, L, 3, H, D}, "dqkv"));
  const float* dout = args.f32_in(1, "dout", args.size({B, L, H, D}, "dout"));
  const float* qkv = args.f32_in(2, "qkv", args.size({B, L, 3, H, D}, "qkv"));
  const float* probs = args.f32_in(3, "probs", args.size({B, H, L, L}, "probs"));
  args.finish();
  attention_backward(dqkv, dout, qkv, probs, B, L, H, D, causal);
  return info.Env().Undefined();
}
POSAPL_EXPORT("attentionBackward", AttentionBackward);

}  // namespace posapl::binding
