// imageResizeBicubic.
#include "args.h"
#include "posapl/image_resize.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, top, left, boxH, boxW, outH, outW)
//   out (outH,outW,3) uint8; input (h,w,3) uint8; the box lies inside the image.
static Napi::Value ImageResizeBicubic(const Napi::CallbackInfo& info) {
  Args args(info, "imageResizeBicubic", 10);
  const int64_t H = args.dim(2, "h"), W = args.dim(3, "w");
  const int64_t top = args.integer(4, "top", 0, H - 1), left = args.integer(5, "left", 0, W - 1);
  const int64_t BH = args.integer(6, "boxH", 1, H - top), BW = args.integer(7, "boxW", 1, W - left);
  const int64_t OH = args.dim(8, "outH"), OW = args.dim(9, "outW");
  uint8_t* out = args.u8_out(0, "out", args.size({OH, OW, 3}, "out"));
  const uint8_t* in = args.u8_in(1, "input", args.size({H, W, 3}, "input"));
  args.finish();
  image_resize_bicubic(out, in, H, W, top, left, BH, BW, OH, OW);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageResizeBicubic", ImageResizeBicubic);

}  // namespace posapl::binding
