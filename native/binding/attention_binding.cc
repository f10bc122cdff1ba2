// attentionForward, attentionBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/attention.h"
#include "registry.h"

namespace posapl::binding {

// (out, probs|null, qkv, b, l, h, d, causal)
static Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args args(info, "attentionForward");
  const int64_t B = args.dim("b"), L = args.dim("l"), H = args.dim("h"), D = args.dim("d");
  const bool causal = args.flag("causal");
  float* out = args.f32_out("out", args.size({B, L, H, D}, "out"));
  float* probs = args.f32_out_or_null("probs", args.size({B, H, L, L}, "probs"));
  const float* qkv = args.f32_in("qkv", args.size({B, L, 3, H, D}, "qkv"));
  args.finish();
  active_backend().attention_forward(out, probs, qkv, B, L, H, D, causal);
  return info.Env().Undefined();
}
POSAPL_EXPORT("attentionForward", AttentionForward);

// (dqkv, dout, qkv, probs, b, l, h, d, causal)
static Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args args(info, "attentionBackward");
  const int64_t B = args.dim("b"), L = args.dim("l"), H = args.dim("h"), D = args.dim("d");
  const bool causal = args.flag("causal");
  float* dqkv = args.f32_out("dqkv", args.size({B, L, 3, H, D}, "dqkv"));
  const float* dout = args.f32_in("dout", args.size({B, L, H, D}, "dout"));
  const float* qkv = args.f32_in("qkv", args.size({B, L, 3, H, D}, "qkv"));
  const float* probs = args.f32_in("probs", args.size({B, H, L, L}, "probs"));
  args.finish();
  active_backend().attention_backward(dqkv, dout, qkv, probs, B, L, H, D, causal);
  return info.Env().Undefined();
}
POSAPL_EXPORT("attentionBackward", AttentionBackward);

}  // namespace posapl::binding
