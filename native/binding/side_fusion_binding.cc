// sideFusionForward, sideFusionBackward.
#include <string>

#include "args.h"
#include "posapl/backend.h"
#include "posapl/side_fusion.h"
#include "registry.h"

namespace posapl::binding {

// End-add does not read f4, so passing one is a caller's mistake worth naming.
static const char* kNoFourthTap = "end-add Side Fusion has no fourth tap";

struct Dims {
  int64_t N, L, C, T, S;
  bool chained, mean;
};

static Dims read_dims(Args& args) {
  Dims d;
  d.N = args.dim("n");
  d.L = args.dim("l");
  d.C = args.dim("c");
  d.chained = args.flag("chained");
  d.mean = args.flag("mean");
  d.T = args.size({d.N, d.L, d.C}, "a tap");
  args.size({d.N, d.L, d.C, 6}, "the workspace");  // overflow check for the size formulas
  d.S = (d.mean ? d.N : d.N * d.L) * d.C;
  return d;
}

// (s4, saved, f1, f2, f3, f4|null, w1, b1, w2, b2, w3, b3, w4, b4, n, l, c, chained, mean)
static Napi::Value SideFusionForward(const Napi::CallbackInfo& info) {
  Args args(info, "sideFusionForward");
  const Dims d = read_dims(args);
  const int64_t CC = args.size({d.C, d.C}, "a weight");
  float* s4 = args.f32_out("s4", d.S);
  float* saved = args.f32_out("saved", side_fusion_saved_size(d.N, d.L, d.C, d.chained, d.mean));
  const float* f1 = args.f32_in("f1", d.T);
  const float* f2 = args.f32_in("f2", d.T);
  const float* f3 = args.f32_in("f3", d.T);
  const float* f4 = nullptr;
  if (d.chained)
    f4 = args.f32_in("f4", d.T);
  else
    args.absent("f4", kNoFourthTap);
  const float* w1 = args.f32_in("w1", CC);
  const float* b1 = args.f32_in("b1", d.C);
  const float* w2 = args.f32_in("w2", CC);
  const float* b2 = args.f32_in("b2", d.C);
  const float* w3 = args.f32_in("w3", CC);
  const float* b3 = args.f32_in("b3", d.C);
  const float* w4 = args.f32_in("w4", CC);
  const float* b4 = args.f32_in("b4", d.C);
  args.finish();
  active_backend().side_fusion_forward(s4, saved, f1, f2, f3, f4, w1, b1, w2, b2, w3, b3, w4, b4, d.N, d.L, d.C, d.chained, d.mean);
  return info.Env().Undefined();
}
POSAPL_EXPORT("sideFusionForward", SideFusionForward);

// (df1|null, df2|null, df3|null, df4|null, dw1, db1, dw2, db2, dw3, db3, dw4, db4, scratch, ds4,
//  f1, f2, f3, w1, w2, w3, w4, saved, n, l, c, chained, mean)
static Napi::Value SideFusionBackward(const Napi::CallbackInfo& info) {
  Args args(info, "sideFusionBackward");
  const Dims d = read_dims(args);
  const int64_t CC = args.size({d.C, d.C}, "a weight");
  float* df1 = args.f32_out_or_null("df1", d.T);
  float* df2 = args.f32_out_or_null("df2", d.T);
  float* df3 = args.f32_out_or_null("df3", d.T);
  float* df4 = nullptr;
  if (d.chained)
    df4 = args.f32_out_or_null("df4", d.T);
  else
    args.absent("df4", kNoFourthTap);
  float* dw1 = args.f32_out("dw1", CC);
  float* db1 = args.f32_out("db1", d.C);
  float* dw2 = args.f32_out("dw2", CC);
  float* db2 = args.f32_out("db2", d.C);
  float* dw3 = args.f32_out("dw3", CC);
  float* db3 = args.f32_out("db3", d.C);
  float* dw4 = args.f32_out("dw4", CC);
  float* db4 = args.f32_out("db4", d.C);
  float* scratch = args.f32_out("scratch", side_fusion_scratch_size(d.N, d.L, d.C, d.mean));
  const float* ds4 = args.f32_in("ds4", d.S);
  const float* f1 = args.f32_in("f1", d.T);
  const float* f2 = args.f32_in("f2", d.T);
  const float* f3 = args.f32_in("f3", d.T);
  const float* w1 = args.f32_in("w1", CC);
  const float* w2 = args.f32_in("w2", CC);
  const float* w3 = args.f32_in("w3", CC);
  const float* w4 = args.f32_in("w4", CC);
  const float* saved = args.f32_in("saved", side_fusion_saved_size(d.N, d.L, d.C, d.chained, d.mean));
  args.finish();
  active_backend().side_fusion_backward(df1, df2, df3, df4, dw1, db1, dw2, db2, dw3, db3, dw4, db4, scratch, ds4, f1, f2, f3, w1, w2,
                       w3, w4, saved, d.N, d.L, d.C, d.chained, d.mean);
  return info.Env().Undefined();
}
POSAPL_EXPORT("sideFusionBackward", SideFusionBackward);

}  // namespace posapl::binding
