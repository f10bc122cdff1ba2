// imageFlipHorizontal.
#include "args.h"
#include "posapl/image_flip.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w): out (h,w,3) and input (h,w,3) uint8.
static Napi::Value ImageFlipHorizontal(const Napi::CallbackInfo& info) {
  Args args(info, "imageFlipHorizontal");
  const int64_t H = args.dim("h"), W = args.dim("w");
  const int64_t n = args.size({H, W, 3}, "input");
  uint8_t* out = args.u8_out("out", n);
  const uint8_t* in = args.u8_in("input", n);
  args.finish();
  image_flip_horizontal(out, in, H, W);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageFlipHorizontal", ImageFlipHorizontal);

}  // namespace posapl::binding
