// imageNormalize.
#include "args.h"
#include "posapl/image_normalize.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, mean, std): out (3,h,w) float32; input (h,w,3) uint8; mean (3); std (3).
static Napi::Value ImageNormalize(const Napi::CallbackInfo& info) {
  Args args(info, "imageNormalize");
  const int64_t H = args.dim("h"), W = args.dim("w");
  const int64_t n = args.size({3, H, W}, "out");
  float* out = args.f32_out("out", n);
  const float* mean = args.f32_in("mean", 3);
  const float* std = args.f32_in("std", 3);
  const uint8_t* in = args.u8_in("input", n);
  args.finish();
  image_normalize(out, in, H, W, mean, std);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageNormalize", ImageNormalize);

}  // namespace posapl::binding
