// imageAugment.
#include "args.h"
#include "posapl/image_augment.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, op, magnitude, fill)
//   out (h,w,3) and input (h,w,3) uint8; op an AugmentOp code; fill 0..255.
static Napi::Value ImageAugment(const Napi::CallbackInfo& info) {
  Args args(info, "imageAugment");
  const int64_t H = args.dim("h"), W = args.dim("w");
  const auto op = static_cast<AugmentOp>(args.integer("op", 0, kAugmentOpCount - 1));
  const double magnitude = args.number("magnitude");
  const auto fill = static_cast<uint8_t>(args.integer("fill", 0, 255));
  const int64_t n = args.size({H, W, 3}, "input");
  uint8_t* out = args.u8_out("out", n);
  const uint8_t* in = args.u8_in("input", n);
  args.finish();
  image_augment(out, in, H, W, op, magnitude, fill);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageAugment", ImageAugment);

}  // namespace posapl::binding
