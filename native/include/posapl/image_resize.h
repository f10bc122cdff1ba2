// Bicubic resampling of uint8 RGB images exactly as Pillow's Image.resize(BICUBIC) computes it
// for 8-bit images (libImaging/Resample.c): Keys' cubic with a = -0.5, its support widened by
// the downscale factor (antialiasing), coefficients normalised and rounded to 22-bit fixed
// point, a horizontal pass rounded to uint8, then a vertical pass.
#pragma once

#include <cstdint>

namespace posapl {

// out (OH,OW,3) = the box (top, left, BH, BW) of in (H,W,3), cropped and then resized to
// OH x OW, as torchvision's resized_crop does on a PIL image: taps never leave the box.
void image_resize_bicubic(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, int64_t top, int64_t left,
                          int64_t BH, int64_t BW, int64_t OH, int64_t OW);

}  // namespace posapl
