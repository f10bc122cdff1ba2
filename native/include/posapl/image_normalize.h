// torchvision's ToTensor + Normalize on a uint8 RGB image, in float32 as torch computes it:
//   out[c][y][x] = (in[y][x][c] / 255 - mean[c]) / std[c]
#pragma once

#include <cstdint>

namespace posapl {

// out (3,H,W); in (H,W,3); mean (3); std (3).
void image_normalize(float* out, const uint8_t* in, int64_t H, int64_t W, const float* mean, const float* std);

}  // namespace posapl
