// saAdapterForward, saAdapterBackward.
#include <string>

#include "args.h"
#include "posapl/backend.h"
#include "posapl/sa_adapter.h"
#include "registry.h"

namespace posapl::binding {

struct Dims {
  int64_t N, L, C, R, H, T;
};

static Dims read_dims(Args& args) {
  Dims d;
  d.N = args.dim("n");
  d.L = args.dim("l");
  d.C = args.dim("c");
  d.R = args.dim("r");
  d.H = args.dim("h");
  if (d.R % d.H != 0)
    args.fail("POSAPL_SHAPE", "Expected h dividing r (" + std::to_string(d.R) + ") but received " +
                                  std::to_string(d.H) + " of type number");
  // Overflow checks for the size formulas of sa_adapter.h.
  args.size({d.N, d.L, d.R, 6}, "saved");
  args.size({d.N, d.H, d.L, d.L}, "probs");
  args.size({d.R, d.R, 3}, "win");
  d.T = args.size({d.N, d.L}, "the token count");
  return d;
}

// (out, saved, m, wd, bd, win, bin, wo, bo, wu, bu, n, l, c, r, h)
static Napi::Value SaAdapterForward(const Napi::CallbackInfo& info) {
  Args args(info, "saAdapterForward");
  const Dims d = read_dims(args);
  const int64_t T = d.T, C = d.C, R = d.R;
  float* out = args.f32_out("out", args.size({T, C}, "out"));
  float* saved = args.f32_out("saved", sa_adapter_saved_size(d.N, d.L, R, d.H));
  const float* m = args.f32_in("m", args.size({T, C}, "m"));
  const float* wd = args.f32_in("wd", args.size({R, C}, "wd"));
  const float* bd = args.f32_in("bd", R);
  const float* win = args.f32_in("win", 3 * R * R);
  const float* bin = args.f32_in("bin", 3 * R);
  const float* wo = args.f32_in("wo", R * R);
  const float* bo = args.f32_in("bo", R);
  const float* wu = args.f32_in("wu", args.size({C, R}, "wu"));
  const float* bu = args.f32_in("bu", C);
  args.finish();
  active_backend().sa_adapter_forward(out, saved, m, wd, bd, win, bin, wo, bo, wu, bu, d.N, d.L, C, R, d.H);
  return info.Env().Undefined();
}
POSAPL_EXPORT("saAdapterForward", SaAdapterForward);

// (dm|null, dwd, dbd, dwin, dbin, dwo, dbo, dwu, dbu, scratch, dout, m, wd, win, wo, wu, saved, n, l, c, r, h)
static Napi::Value SaAdapterBackward(const Napi::CallbackInfo& info) {
  Args args(info, "saAdapterBackward");
  const Dims d = read_dims(args);
  const int64_t T = d.T, C = d.C, R = d.R;
  float* dm = args.f32_out_or_null("dm", args.size({T, C}, "dm"));
  float* dwd = args.f32_out("dwd", args.size({R, C}, "dwd"));
  float* dbd = args.f32_out("dbd", R);
  float* dwin = args.f32_out("dwin", 3 * R * R);
  float* dbin = args.f32_out("dbin", 3 * R);
  float* dwo = args.f32_out("dwo", R * R);
  float* dbo = args.f32_out("dbo", R);
  float* dwu = args.f32_out("dwu", args.size({C, R}, "dwu"));
  float* dbu = args.f32_out("dbu", C);
  float* scratch = args.f32_out("scratch", sa_adapter_scratch_size(d.N, d.L, R));
  const float* dout = args.f32_in("dout", args.size({T, C}, "dout"));
  const float* m = args.f32_in("m", args.size({T, C}, "m"));
  const float* wd = args.f32_in("wd", args.size({R, C}, "wd"));
  const float* win = args.f32_in("win", 3 * R * R);
  const float* wo = args.f32_in("wo", R * R);
  const float* wu = args.f32_in("wu", args.size({C, R}, "wu"));
  const float* saved = args.f32_in("saved", sa_adapter_saved_size(d.N, d.L, R, d.H));
  args.finish();
  active_backend().sa_adapter_backward(dm, dwd, dbd, dwin, dbin, dwo, dbo, dwu, dbu, scratch, dout, m, wd, win, wo, wu, saved, d.N,
                      d.L, C, R, d.H);
  return info.Env().Undefined();
}
POSAPL_EXPORT("saAdapterBackward", SaAdapterBackward);

}  // namespace posapl::binding
