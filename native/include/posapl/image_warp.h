// Affine warp of a uint8 RGB image exactly as OpenCV's cv::warpAffine(INTER_LINEAR,
// BORDER_CONSTANT) computes it: the forward matrix inverted in double, source coordinates in
// fixed point with 1/32-pixel steps, bilinear weights in 15-bit fixed point, taps outside the
// image read the fill value.
#pragma once

#include <cstdint>

namespace posapl {

// out (H,W,3) from in (H,W,3). m (2,3) maps source to destination coordinates, as
// cv::warpAffine receives it without WARP_INVERSE_MAP: dst(m * [x y 1]^T) = src(x, y).
void image_warp_affine(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, const double m[6], uint8_t fill);

}  // namespace posapl
