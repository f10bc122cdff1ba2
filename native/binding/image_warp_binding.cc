// imageWarpAffine.
#include "args.h"
#include "posapl/image_warp.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, m0, m1, m2, m3, m4, m5, fill)
//   out (h,w,3) and input (h,w,3) uint8; m the forward (2,3) matrix row by row; fill 0..255.
static Napi::Value ImageWarpAffine(const Napi::CallbackInfo& info) {
  Args args(info, "imageWarpAffine");
  const int64_t H = args.dim("h"), W = args.dim("w");
  static const char* const names[6] = {"m0", "m1", "m2", "m3", "m4", "m5"};
  double m[6];
  for (int k = 0; k < 6; ++k) m[k] = args.number(names[k]);
  const auto fill = static_cast<uint8_t>(args.integer("fill", 0, 255));
  const int64_t n = args.size({H, W, 3}, "input");
  uint8_t* out = args.u8_out("out", n);
  const uint8_t* in = args.u8_in("input", n);
  args.finish();
  image_warp_affine(out, in, H, W, m, fill);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageWarpAffine", ImageWarpAffine);

}  // namespace posapl::binding
