// mlpAdapterForward, mlpAdapterBackward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/mlp_adapter.h"
#include "registry.h"

namespace posapl::binding {

// (out, saved, x, w1, b1, w2, b2, rows, c, r, cout)
static Napi::Value MlpAdapterForward(const Napi::CallbackInfo& info) {
  Args args(info, "mlpAdapterForward");
  const int64_t rows = args.dim("rows"), C = args.dim("c"), R = args.dim("r"), Cout = args.dim("cout");
  args.size({rows, R}, "saved");  // overflow check for the size formula
  float* out = args.f32_out("out", args.size({rows, Cout}, "out"));
  float* saved = args.f32_out("saved", mlp_adapter_saved_size(rows, R));
  const float* x = args.f32_in("x", args.size({rows, C}, "x"));
  const float* w1 = args.f32_in("w1", args.size({R, C}, "w1"));
  const float* b1 = args.f32_in("b1", R);
  const float* w2 = args.f32_in("w2", args.size({Cout, R}, "w2"));
  const float* b2 = args.f32_in("b2", Cout);
  args.finish();
  active_backend().mlp_adapter_forward(out, saved, x, w1, b1, w2, b2, rows, C, R, Cout);
  return info.Env().Undefined();
}
POSAPL_EXPORT("mlpAdapterForward", MlpAdapterForward);

// (dx|null, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, c, r, cout)
static Napi::Value MlpAdapterBackward(const Napi::CallbackInfo& info) {
  Args args(info, "mlpAdapterBackward");
  const int64_t rows = args.dim("rows"), C = args.dim("c"), R = args.dim("r"),
                Cout = args.dim("cout");
  args.size({rows, R}, "saved");  // overflow check for the size formulas
  float* dx = args.f32_out_or_null("dx", args.size({rows, C}, "dx"));
  float* dw1 = args.f32_out("dw1", args.size({R, C}, "dw1"));
  float* db1 = args.f32_out("db1", R);
  float* dw2 = args.f32_out("dw2", args.size({Cout, R}, "dw2"));
  float* db2 = args.f32_out("db2", Cout);
  float* scratch = args.f32_out("scratch", mlp_adapter_scratch_size(rows, R));
  const float* dout = args.f32_in("dout", args.size({rows, Cout}, "dout"));
  const float* x = args.f32_in("x", args.size({rows, C}, "x"));
  const float* w1 = args.f32_in("w1", args.size({R, C}, "w1"));
  const float* w2 = args.f32_in("w2", args.size({Cout, R}, "w2"));
  const float* saved = args.f32_in("saved", mlp_adapter_saved_size(rows, R));
  args.finish();
  active_backend().mlp_adapter_backward(dx, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, C, R, Cout);
  return info.Env().Undefined();
}
POSAPL_EXPORT("mlpAdapterBackward", MlpAdapterBackward);

}  // namespace posapl::binding
