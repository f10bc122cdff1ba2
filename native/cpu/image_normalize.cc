#include "posapl/image_normalize.h"

namespace posapl {

void image_normalize(float* out, const uint8_t* in, int64_t H, int64_t W, const float* mean, const float* std) {
  // 256 possible inputs per channel: tabulate them, with torch's operations (divisions, not
  // reciprocal products: ToTensor divides by 255 and Normalize by std).
  float table[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  const int64_t plane = H * W;
  for (int c = 0; c < 3; ++c) {
    float* dst = out + c * plane;  // (H,W) plane of channel c
    const float* t = table[c];
    for (int64_t i = 0; i < plane; ++i) dst[i] = t[in[i * 3 + c]];
  }
}

}  // namespace posapl
