#include "posapl/image_flip.h"

namespace posapl {

void image_flip_horizontal(uint8_t* out, const uint8_t* in, int64_t H, int64_t W) {
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* src = in + y * W * 3;
    uint8_t* dst = out + y * W * 3;
    for (int64_t x = 0; x < W; ++x) {
      const uint8_t* p = src + (W - 1 - x) * 3;
      dst[x * 3 + 0] = p[0];
      dst[x * 3 + 1] = p[1];
      dst[x * 3 + 2] = p[2];
    }
  }
}

}  // namespace posapl
