#include "posapl/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace posapl {

namespace {

constexpr int kChannels = 3;
constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images
constexpr double kBicubicSupport = 2.0;

// Keys' cubic convolution kernel with a = -0.5 (Pillow's bicubic_filter).
double bicubic(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Fixed-point taps of one axis: output i reads `count[i]` inputs from `first[i]`, with weights
// weights[i * ksize + t]. Pillow's precompute_coeffs and normalize_coeffs_8bpc.
struct Taps {
  int64_t ksize = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;  // (out, ksize)
};

Taps precompute_taps(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filterscale = std::max(scale, 1.0);  // widen the kernel only when shrinking
  const double support = kBicubicSupport * filterscale;
  Taps taps;
  taps.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out_size);
  taps.count.resize(out_size);
  taps.weights.assign(out_size * taps.ksize, 0);
  std::vector<double> k(taps.ksize);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (static_cast<double>(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Pillow rounds with a truncating cast: (int)(v + 0.5).
    int64_t xmin = static_cast<int64_t>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int64_t xmax = static_cast<int64_t>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      const double w = bicubic((static_cast<double>(x + xmin) - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int64_t x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
      const double scaled = k[x] * (1 << kPrecisionBits);
      taps.weights[xx * taps.ksize + x] = static_cast<int32_t>(k[x] < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    taps.first[xx] = xmin;
    taps.count[xx] = xmax;
  }
  return taps;
}

// Pillow's clip8: drop the fixed-point fraction of a sum that started at one half.
inline uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// out (rows, OW, 3) from in rows with `in_stride` bytes, columns starting at in_col.
void resample_horizontal(uint8_t* out, const uint8_t* in, int64_t in_stride, int64_t in_col, int64_t rows,
                         int64_t OW, const Taps& taps) {
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* row = in + y * in_stride + in_col * kChannels;
    uint8_t* dst = out + y * OW * kChannels;
    for (int64_t xx = 0; xx < OW; ++xx) {
      const int32_t* k = &taps.weights[xx * taps.ksize];
      const uint8_t* src = row + taps.first[xx] * kChannels;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int64_t t = 0; t < taps.count[xx]; ++t) {
        s0 += src[t * kChannels + 0] * k[t];
        s1 += src[t * kChannels + 1] * k[t];
        s2 += src[t * kChannels + 2] * k[t];
      }
      dst[xx * kChannels + 0] = clip8(s0);
      dst[xx * kChannels + 1] = clip8(s1);
      dst[xx * kChannels + 2] = clip8(s2);
    }
  }
}

// out (OH, width, 3) from in rows with `in_stride` bytes, columns starting at in_col; the taps
// index rows of `in`.
void resample_vertical(uint8_t* out, const uint8_t* in, int64_t in_stride, int64_t in_col, int64_t width,
                       int64_t OH, const Taps& taps) {
  const int64_t stride = width * kChannels;
  std::vector<int32_t> acc(stride);
  for (int64_t yy = 0; yy < OH; ++yy) {
    const int32_t* k = &taps.weights[yy * taps.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    // Row by row so the inner loop runs over contiguous bytes.
    for (int64_t t = 0; t < taps.count[yy]; ++t) {
      const uint8_t* src = in + (taps.first[yy] + t) * in_stride + in_col * kChannels;
      const int32_t w = k[t];
      for (int64_t i = 0; i < stride; ++i) acc[i] += src[i] * w;
    }
    uint8_t* dst = out + yy * stride;
    for (int64_t i = 0; i < stride; ++i) dst[i] = clip8(acc[i]);
  }
}

}  // namespace

void image_resize_bicubic(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, int64_t top, int64_t left,
                          int64_t BH, int64_t BW, int64_t OH, int64_t OW) {
  (void)H;
  const int64_t in_stride = W * kChannels;
  const uint8_t* box = in + top * in_stride;  // (BH, ..) rows of the crop
  // Pillow skips a pass whose size does not change; the pass would be an exact copy anyway.
  const bool horizontal = OW != BW, vertical = OH != BH;
  if (!horizontal && !vertical) {
    for (int64_t y = 0; y < BH; ++y)
      std::memcpy(out + y * OW * kChannels, box + y * in_stride + left * kChannels, BW * kChannels);
    return;
  }
  if (!horizontal) {
    resample_vertical(out, box, in_stride, left, BW, OH, precompute_taps(BH, OH));
    return;
  }
  const Taps htaps = precompute_taps(BW, OW);
  if (!vertical) {
    resample_horizontal(out, box, in_stride, left, BH, OW, htaps);
    return;
  }
  // Horizontal pass over just the rows the vertical taps read, as Pillow does.
  Taps vtaps = precompute_taps(BH, OH);
  const int64_t first_row = vtaps.first[0];
  const int64_t last_row = vtaps.first[OH - 1] + vtaps.count[OH - 1];
  for (auto& f : vtaps.first) f -= first_row;
  std::vector<uint8_t> temp((last_row - first_row) * OW * kChannels);  // (rows, OW, 3)
  resample_horizontal(temp.data(), box + first_row * in_stride, in_stride, left, last_row - first_row, OW, htaps);
  resample_vertical(out, temp.data(), OW * kChannels, 0, OW, OH, vtaps);
}

}  // namespace posapl
