// gemm, gemmReference, biasGrad, activationBackward.
#include "args.h"
#include "posapl/gemm.h"
#include "registry.h"

namespace posapl::binding {

using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                        int64_t, float, float*, int64_t, const float*, Activation, float*);

// (c, pre|null, a, b, bias|null, m, n, k, transA, transB, alpha, beta, activation)
//   c (M,N); a (M,K) or (K,M) with transA; b (K,N) or (N,K) with transB; bias (N)
static Napi::Value gemm_with(const Napi::CallbackInfo& info, const char* op, GemmFn fn) {
  Args args(info, op, 13);
  const int64_t M = args.dim(5, "m"), N = args.dim(6, "n"), K = args.dim(7, "k");
  const bool ta = args.flag(8, "transA"), tb = args.flag(9, "transB");
  const float alpha = static_cast<float>(args.number(10, "alpha"));
  const float beta = static_cast<float>(args.number(11, "beta"));
  const auto act = static_cast<Activation>(args.integer(12, "activation", 0, 2));
  float* c = args.f32_out(0, "c", args.size({M, N}, "c"));
  float* pre = args.f32_out_or_null(1, "pre", args.size({M, N}, "pre"));
  const float* a = args.f32_in(2, "a", args.size({M, K}, "a"));
  const float* b = args.f32_in(3, "b", args.size({K, N}, "b"));
  const float* bias = args.f32_in_or_null(4, "bias", N);
  args.finish();
  fn(ta, tb, M, N, K, alpha, a, ta ? M : K, b, tb ? K : N, beta, c, N, bias, act, pre);
  return info.Env().Undefined();
}

static Napi::Value Gemm(const Napi::CallbackInfo& info) { return gemm_with(info, "gemm", gemm); }
POSAPL_EXPORT("gemm", Gemm);

static Napi::Value GemmReference(const Napi::CallbackInfo& info) {
  return gemm_with(info, "gemmReference", gemm_reference);
}
POSAPL_EXPORT("gemmReference", GemmReference);

// (db, dy, m, n, accumulate): db(N) (+)= column sums of dy(M,N)
static Napi::Value BiasGrad(const Napi::CallbackInfo& info) {
  Args args(info, "biasGrad", 5);
  const int64_t M = args.dim(2, "m"), N = args.dim(3, "n");
  const bool accumulate = args.flag(4, "accumulate");
  float* db = args.f32_out(0, "db", N);
  const float* dy = args.f32_in(1, "dy", args.size({M, N}, "dy"));
  args.finish();
  bias_grad(db, dy, M, N, accumulate);
  return info.Env().Undefined();
}
POSAPL_EXPORT("biasGrad", BiasGrad);

// (dx, dy, pre, n, activation): dx = dy * act'(pre)
static Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  Args args(info, "activationBackward", 5);
  const int64_t n = args.dim(3, "n");
  const auto act = static_cast<Activation>(args.integer(4, "activation", 0, 2));
  float* dx = args.f32_out(0, "dx", n);
  const float* dy = args.f32_in(1, "dy", n);
  const float* pre = args.f32_in(2, "pre", n);
  args.finish();
  activation_backward(act, dx, dy, pre, n);
  return info.Env().Undefined();
}
POSAPL_EXPORT("activationBackward", ActivationBackward);

}  // namespace posapl::binding
