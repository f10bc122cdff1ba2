// gemm, gemmReference, biasGrad, activationBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/gemm.h"
#include "registry.h"

namespace posapl::binding {

using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                        int64_t, float, float*, int64_t, const float*, Activation, float*);

// (c, pre|null, a, b, bias|null, m, n, k, transA, transB, alpha, beta, activation)
//   c (M,N); a (M,K) or (K,M) with transA; b (K,N) or (N,K) with transB; bias (N)
static Napi::Value gemm_with(const Napi::CallbackInfo& info, const char* op, GemmFn fn) {
  Args args(info, op);
  const int64_t M = args.dim("m"), N = args.dim("n"), K = args.dim("k");
  const bool ta = args.flag("transA"), tb = args.flag("transB");
  const float alpha = static_cast<float>(args.number("alpha"));
  const float beta = static_cast<float>(args.number("beta"));
  const auto act = static_cast<Activation>(args.integer("activation", 0, 2));
  float* c = args.f32_out("c", args.size({M, N}, "c"));
  float* pre = args.f32_out_or_null("pre", args.size({M, N}, "pre"));
  const float* a = args.f32_in("a", args.size({M, K}, "a"));
  const float* b = args.f32_in("b", args.size({K, N}, "b"));
  const float* bias = args.f32_in_or_null("bias", N);
  args.finish();
  fn(ta, tb, M, N, K, alpha, a, ta ? M : K, b, tb ? K : N, beta, c, N, bias, act, pre);
  return info.Env().Undefined();
}

static Napi::Value Gemm(const Napi::CallbackInfo& info) { return gemm_with(info, "gemm", active_backend().gemm); }
POSAPL_EXPORT("gemm", Gemm);

static Napi::Value GemmReference(const Napi::CallbackInfo& info) {
  return gemm_with(info, "gemmReference", active_backend().gemm_reference);
}
POSAPL_EXPORT("gemmReference", GemmReference);

// (db, dy, m, n, accumulate): db(N) (+)= column sums of dy(M,N)
static Napi::Value BiasGrad(const Napi::CallbackInfo& info) {
  Args args(info, "biasGrad");
  const int64_t M = args.dim("m"), N = args.dim("n");
  const bool accumulate = args.flag("accumulate");
  float* db = args.f32_out("db", N);
  const float* dy = args.f32_in("dy", args.size({M, N}, "dy"));
  args.finish();
  active_backend().bias_grad(db, dy, M, N, accumulate);
  return info.Env().Undefined();
}
POSAPL_EXPORT("biasGrad", BiasGrad);

// (dx, dy, pre, n, activation): dx = dy * act'(pre)
static Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  Args args(info, "activationBackward");
  const int64_t n = args.dim("n");
  const auto act = static_cast<Activation>(args.integer("activation", 0, 2));
  float* dx = args.f32_out("dx", n);
  const float* dy = args.f32_in("dy", n);
  const float* pre = args.f32_in("pre", n);
  args.finish();
  active_backend().activation_backward(act, dx, dy, pre, n);
  return info.Env().Undefined();
}
POSAPL_EXPORT("activationBackward", ActivationBackward);

}  // namespace posapl::binding
