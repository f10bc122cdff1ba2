// imageResizeBicubic.
#include "args.h"
#include "posapl/image_resize.h"
#include "registry.h"

namespace posapl::binding {

// (out, input, h, w, top, left, boxH, boxW, outH, outW)
//   out (outH,outW,3) uint8; input (h,w,3) uint8; the box lies inside the image.
static Napi::Value ImageResizeBicubic(const Napi::CallbackInfo& info) {
  Args args(info, "imageResizeBicubic");
  const int64_t H = args.dim("h"), W = args.dim("w");
  const int64_t top = args.integer("top", 0, H - 1), left = args.integer("left", 0, W - 1);
  const int64_t BH = args.integer("boxH", 1, H - top), BW = args.integer("boxW", 1, W - left);
  const int64_t OH = args.dim("outH"), OW = args.dim("outW");
  uint8_t* out = args.u8_out("out", args.size({OH, OW, 3}, "out"));
  const uint8_t* in = args.u8_in("input", args.size({H, W, 3}, "input"));
  args.finish();
  image_resize_bicubic(out, in, H, W, top, left, BH, BW, OH, OW);
  return info.Env().Undefined();
}
POSAPL_EXPORT("imageResizeBicubic", ImageResizeBicubic);

}  // namespace posapl::binding
