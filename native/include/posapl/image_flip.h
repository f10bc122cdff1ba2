// Mirror image of a uint8 RGB image (torchvision's RandomHorizontalFlip when it fires).
#pragma once

#include <cstdint>

namespace posapl {

// out (H,W,3): out[y][x] = in[y][W-1-x]; in (H,W,3).
void image_flip_horizontal(uint8_t* out, const uint8_t* in, int64_t H, int64_t W);

}  // namespace posapl
