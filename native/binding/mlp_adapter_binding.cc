// mlpAdapterForward, mlpAdapterBackward.
#include "args.h"
#include "posapl/mlp_adapter.h"
#include "registry.h"

namespace posapl::binding {

// (out, saved, x, w1, b1, w2, b2, rows, c, r, cout)
static Napi::Value MlpAdapterForward(const Napi::CallbackInfo& info) {
  Args args(info, "mlpAdapterForward", 11);
  const int64_t rows = args.dim(7, "rows"), C = args.dim(8, "c"), R = args.dim(9, "r"), Cout = args.dim(10, "cout");
  args.size({rows, R}, "saved");  // overflow check for the size formula
  float* out = args.f32_out(0, "out", args.size({rows, Cout}, "out"));
  float* saved = args.f32_out(1, "saved", mlp_adapter_saved_size(rows, R));
  const float* x = args.f32_in(2, "x", args.size({rows, C}, "x"));
  const float* w1 = args.f32_in(3, "w1", args.size({R, C}, "w1"));
  const float* b1 = args.f32_in(4, "b1", R);
  const float* w2 = args.f32_in(5, "w2", args.size({Cout, R}, "w2"));
  const float* b2 = args.f32_in(6, "b2", Cout);
  args.finish();
  mlp_adapter_forward(out, saved, x, w1, b1, w2, b2, rows, C, R, Cout);
  return info.Env().Undefined();
}
POSAPL_EXPORT("mlpAdapterForward", MlpAdapterForward);

// (dx|null, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, c, r, cout)
static Napi::Value MlpAdapterBackward(const Napi::CallbackInfo& info) {
  Args args(info, "mlpAdapterBackward", 15);
  const int64_t rows = args.dim(11, "rows"), C = args.dim(12, "c"), R = args.dim(13, "r"),
                Cout = args.dim(14, "cout");
  args.size({rows, R}, "saved");  // overflow check for the size formulas
  float* dx = args.f32_out_or_null(0, "dx", args.size({rows, C}, "dx"));
  float* dw1 = args.f32_out(1, "dw1", args.size({R, C}, "dw1"));
  float* db1 = args.f32_out(2, "db1", R);
  float* dw2 = args.f32_out(3, "dw2", args.size({Cout, R}, "dw2"));
  float* db2 = args.f32_out(4, "db2", Cout);
  float* scratch = args.f32_out(5, "scratch", mlp_adapter_scratch_size(rows, R));
  const float* dout = args.f32_in(6, "dout", args.size({rows, Cout}, "dout"));
  const float* x = args.f32_in(7, "x", args.size({rows, C}, "x"));
  const float* w1 = args.f32_in(8, "w1", args.size({R, C}, "w1"));
  const float* w2 = args.f32_in(9, "w2", args.size({Cout, R}, "w2"));
  const float* saved = args.f32_in(10, "saved", mlp_adapter_saved_size(rows, R));
  args.finish();
  mlp_adapter_backward(dx, dw1, db1, dw2, db2, scratch, dout, x, w1, w2, saved, rows, C, R, Cout);
  return info.Env().Undefined();
}
POSAPL_EXPORT("mlpAdapterBackward", MlpAdapterBackward);

}  // namespace posapl::binding
