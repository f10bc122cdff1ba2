// The RandAugment operations of the authors' posapl_0_randaugment.py, on uint8 RGB images,
// with their numpy/OpenCV arithmetic reproduced (rounding, truncation, wrap-around) rather
// than the PIL operations they are named after.
#pragma once

#include <cstdint>

namespace posapl {

enum class AugmentOp : int {
  kIdentity = 0,
  kAutoContrast = 1,  // per channel; their uint8 "-low" wraps, so a channel whose minimum is
                      // above 0 becomes all 255
  kEqualize = 2,      // PIL's ImageOps.equalize per channel
  kBrightness = 3,    // magnitude: factor; v * factor clipped to [0,255], truncated
  kSharpness = 4,     // magnitude: factor; blend with a 3x3 smoothing (1 1 1 / 1 5 1 / 1 1 1)/13
                      // inside a 1-pixel frame, cast to uint8 without clipping (wraps)
  kShearX = 5,        // magnitude: shear factor s, dst(x + s y, y) = src(x, y)
  kShearY = 6,        // magnitude: shear factor s, dst(x, y + s x) = src(x, y)
  kTranslateX = 7,    // magnitude: offset in pixels, dst(x, y) = src(x + offset, y)
  kTranslateY = 8,    // magnitude: offset in pixels, dst(x, y) = src(x, y + offset)
  kRotate = 9,        // magnitude: degrees counter-clockwise about (W/2, H/2)
};

constexpr int kAugmentOpCount = 10;

// out (H,W,3) = op(in (H,W,3)); the geometric ops fill uncovered pixels with `fill` in every
// channel (the authors use 128).
void image_augment(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, AugmentOp op, double magnitude,
                   uint8_t fill);

}  // namespace posapl
