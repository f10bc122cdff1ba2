// bf16Pack, gemmBf16, gemmBf16Reference.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/gemm_bf16.h"
#include "registry.h"

namespace posapl::binding {

// (packed, b, k, n, trans): packed (bf16PackedSize(k,n)) <- op(B) (K,N); b holds (K,N), or (N,K)
// with trans.
static Napi::Value Bf16Pack(const Napi::CallbackInfo& info) {
  Args args(info, "bf16Pack");
  const int64_t K = args.dim("k"), N = args.dim("n");
  const bool trans = args.flag("trans");
  uint16_t* packed = args.u16_out("packed", bf16_packed_size(K, N));
  const float* b = args.f32_in("b", args.size({K, N}, "b"));
  args.finish();
  active_backend().bf16_pack(packed, b, K, N, trans);
  return info.Env().Undefined();
}
POSAPL_EXPORT("bf16Pack", Bf16Pack);

using GemmBf16Fn = void (*)(int64_t, int64_t, int64_t, const float*, int64_t, const uint16_t*, float*, int64_t,
                            const Bf16Epilogue&);

// (c, pre|null, a, packed, bias|null, m, n, k, alpha, beta, activation, aActivation, residual|null)
//   c (M,N); a (M,K); packed = bf16Pack of op(B) (K,N); bias (N); pre, residual (M,N)
static Napi::Value gemm_bf16_with(const Napi::CallbackInfo& info, const char* op, GemmBf16Fn fn) {
  Args args(info, op);
  const int64_t M = args.dim("m"), N = args.dim("n"), K = args.dim("k");
  Bf16Epilogue ep;
  ep.alpha = static_cast<float>(args.number("alpha"));
  ep.beta = static_cast<float>(args.number("beta"));
  ep.act = static_cast<Activation>(args.integer("activation", 0, 2));
  ep.a_act = static_cast<Activation>(args.integer("aActivation", 0, 2));
  float* c = args.f32_out("c", args.size({M, N}, "c"));
  ep.pre = args.f32_out_or_null("pre", args.size({M, N}, "pre"));
  const float* a = args.f32_in("a", args.size({M, K}, "a"));
  const uint16_t* packed = args.u16_in("packed", bf16_packed_size(K, N));
  ep.bias = args.f32_in_or_null("bias", N);
  ep.residual = args.f32_in_or_null("residual", args.size({M, N}, "residual"));
  args.finish();
  fn(M, N, K, a, K, packed, c, N, ep);
  return info.Env().Undefined();
}

static Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  if (!active_backend().supports_op(Op::GemmBf16)) {
    throw_error(info.Env(), "POSAPL_NO_BF16",
                "gemmBf16: this CPU (or OS) has no AMX-BF16 support; use precision 'fp32' (the fp32 gemm)");
  }
  return gemm_bf16_with(info, "gemmBf16", active_backend().gemm_bf16);
}
POSAPL_EXPORT("gemmBf16", GemmBf16);

static Napi::Value GemmBf16Reference(const Napi::CallbackInfo& info) {
  return gemm_bf16_with(info, "gemmBf16Reference", active_backend().gemm_bf16_reference);
}
POSAPL_EXPORT("gemmBf16Reference", GemmBf16Reference);

}  // namespace posapl::binding
