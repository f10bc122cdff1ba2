// imageNormalize.
#include "args.h"
#include "posapl/image_normalize.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, mean, std): out (3,h,w) float32; input (h,w,3) uint8; mean (3); std (3).
static Napi::Value ImageNormalize(const Napi::CallbackInfo& info) {
  Args args(info, "imageNormalize", 6);
  const int64_t H = args.dim(2, "h"), W = args.dim(3, "w");
  const int64_t n = args.size({3, H, W}, "out");
  float* out = args.f32_out(0, "out", n);
  const float* mean = args.f32_in(4, "mean", 3);
  const float* std = args.f32_in(5, "std", 3);
  const uint8_t* in = args.u8_in(1, "input", n);
  args.finish();
  image_normalize(out, in, H, W, mean, std);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageNormalize", ImageNormalize);

}  // namespace posapl::binding
