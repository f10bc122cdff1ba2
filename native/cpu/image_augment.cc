#include "posapl/image_augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "posapl/image_warp.h"

namespace posapl {

namespace {

constexpr int kChannels = 3;

// Applies one 256-entry table per channel.
void apply_tables(uint8_t* out, const uint8_t* in, int64_t pixels, const uint8_t tables[kChannels][256]) {
  for (int64_t i = 0; i < pixels; ++i)
    for (int c = 0; c < kChannels; ++c) out[i * kChannels + c] = tables[c][in[i * kChannels + c]];
}

// numpy's float -> uint8 cast as it behaves on x86: truncate toward zero, keep the low byte.
inline uint8_t wrap_to_uint8(float v) { return static_cast<uint8_t>(static_cast<int32_t>(v) & 0xFF); }

void autocontrast(uint8_t* out, const uint8_t* in, int64_t pixels) {
  uint8_t tables[kChannels][256];
  for (int c = 0; c < kChannels; ++c) {
    uint8_t low = 255, high = 0;
    for (int64_t i = 0; i < pixels; ++i) {
      const uint8_t v = in[i * kChannels + c];
      low = v < low ? v : low;
      high = v > high ? v : high;
    }
    for (int v = 0; v < 256; ++v) tables[c][v] = static_cast<uint8_t>(v);
    if (high <= low) continue;
    const double scale = 255.0 / static_cast<double>(high - low);
    // The authors write `-low * scale` with low a numpy uint8: the negation wraps to 256 - low.
    const double offset = static_cast<double>(static_cast<uint8_t>(-low)) * scale;
    for (int v = 0; v < 256; ++v) {
      double t = v * scale + offset;
      t = t < 0 ? 0 : (t > 255 ? 255 : t);
      tables[c][v] = static_cast<uint8_t>(t);
    }
  }
  apply_tables(out, in, pixels, tables);
}

void equalize(uint8_t* out, const uint8_t* in, int64_t pixels) {
  uint8_t tables[kChannels][256];
  for (int c = 0; c < kChannels; ++c) {
    int64_t hist[256] = {0};
    for (int64_t i = 0; i < pixels; ++i) ++hist[in[i * kChannels + c]];
    // PIL's step: the pixels outside the brightest occupied bin, over 255.
    int64_t last = 255;
    while (last > 0 && hist[last] == 0) --last;
    int64_t counted = 0;
    for (int v = 0; v < last; ++v) counted += hist[v];
    const int64_t step = counted / 255;
    int64_t cumulative = step / 2;
    for (int v = 0; v < 256; ++v) {
      if (step == 0) {
        tables[c][v] = static_cast<uint8_t>(v);
        continue;
      }
      const int64_t t = cumulative / step;
      tables[c][v] = static_cast<uint8_t>(t > 255 ? 255 : t);
      cumulative += hist[v];
    }
  }
  apply_tables(out, in, pixels, tables);
}

void brightness(uint8_t* out, const uint8_t* in, int64_t pixels, float factor) {
  uint8_t tables[kChannels][256];
  for (int v = 0; v < 256; ++v) {
    float t = static_cast<float>(v) * factor;  // float32, as their np.float32 table
    t = t < 0 ? 0 : (t > 255 ? 255 : t);
    for (int c = 0; c < kChannels; ++c) tables[c][v] = static_cast<uint8_t>(t);
  }
  apply_tables(out, in, pixels, tables);
}

// Round half to even for |v| < 2^22 in the default rounding mode: adding 1.5 * 2^23 leaves no
// fraction bits, so the float addition itself rounds (cvRound's result, vectorisable).
inline float round_half_even(float v) {
  const float magic = 12582912.0f;
  return (v + magic) - magic;
}

// One row of cv::filter2D(img, -1, (1 1 1 / 1 5 1 / 1 1 1) / 13): out (W,3) from the rows
// above, at and below it, each padded with one reflected pixel per side ((W+2,3)). As OpenCV's
// AVX2 path: float32 taps in row-major order with fused multiply-adds, rounded half to even,
// saturated. A fused multiply-add rounds once; here the float32 sum and the product of a byte
// with a float32 weight are multiples of 2^-27 below 2^10, so their double sum is exact and one
// rounding to float gives the fused result without an fma instruction.
void smooth_row(uint8_t* out, const uint8_t* const padded[3], int64_t W, std::vector<float>& acc) {
  const int64_t n = W * kChannels;
  const double side = 1.0f / 13.0f, centre = 5.0f / 13.0f;
  std::fill(acc.begin(), acc.begin() + n, 0.0f);
  for (int r = 0; r < 3; ++r) {
    for (int dx = 0; dx < 3; ++dx) {
      const uint8_t* src = padded[r] + dx * kChannels;
      const double w = r == 1 && dx == 1 ? centre : side;
      for (int64_t i = 0; i < n; ++i) acc[i] = static_cast<float>(static_cast<double>(acc[i]) + src[i] * w);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    const float v = round_half_even(acc[i]);
    out[i] = static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
}

// The smoothed image, (H,W,3), with OpenCV's default border (BORDER_REFLECT_101).
void smooth(uint8_t* out, const uint8_t* in, int64_t H, int64_t W) {
  auto reflect = [](int64_t p, int64_t n) -> int64_t {
    if (n == 1) return 0;
    if (p < 0) return -p;
    if (p >= n) return 2 * n - 2 - p;
    return p;
  };
  const int64_t stride = W * kChannels;
  std::vector<uint8_t> rows(3 * (stride + 2 * kChannels));  // three padded rows (W+2,3)
  std::vector<float> acc(stride);
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* padded[3];
    for (int r = 0; r < 3; ++r) {
      uint8_t* row = &rows[r * (stride + 2 * kChannels)];
      const uint8_t* src = in + reflect(y + r - 1, H) * stride;
      std::memcpy(row + kChannels, src, stride);
      std::memcpy(row, src + reflect(-1, W) * kChannels, kChannels);
      std::memcpy(row + stride + kChannels, src + reflect(W, W) * kChannels, kChannels);
      padded[r] = row;
    }
    smooth_row(out + y * stride, padded, W, acc);
  }
}

void sharpness(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, float factor) {
  const int64_t n = H * W * kChannels;
  if (factor == 1.0f) {
    std::memcpy(out, in, n);
    return;
  }
  if (factor == 0.0f) {
    smooth(out, in, H, W);
    return;
  }
  // The 1-pixel frame keeps its values; inside, blend in float32 and cast without clipping.
  std::vector<uint8_t> smoothed(n);
  smooth(smoothed.data(), in, H, W);
  std::memcpy(out, in, n);
  const int64_t stride = W * kChannels;
  for (int64_t y = 1; y + 1 < H; ++y) {
    for (int64_t i = y * stride + kChannels; i < (y + 1) * stride - kChannels; ++i) {
      const float d = smoothed[i];
      const float diff = static_cast<float>(in[i]) - d;
      const float scaled = factor * diff;  // rounded on its own, as numpy does
      out[i] = wrap_to_uint8(d + scaled);
    }
  }
}

// cv::getRotationMatrix2D(center, degrees, 1) with the centre as a Point2f.
void rotation_matrix(double m[6], double degrees, int64_t H, int64_t W) {
  const double cx = static_cast<float>(static_cast<double>(W) / 2);
  const double cy = static_cast<float>(static_cast<double>(H) / 2);
  const double angle = degrees * (3.1415926535897932384626433832795 / 180);
  const double alpha = std::cos(angle), beta = std::sin(angle);
  m[0] = alpha;
  m[1] = beta;
  m[2] = (1 - alpha) * cx - beta * cy;
  m[3] = -beta;
  m[4] = alpha;
  m[5] = beta * cx + (1 - alpha) * cy;
}

}  // namespace

void image_augment(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, AugmentOp op, double magnitude,
                   uint8_t fill) {
  const int64_t pixels = H * W;
  // Shear and translate matrices are np.float32 in the authors' code: round the magnitude.
  const double f32 = static_cast<float>(magnitude);
  switch (op) {
    case AugmentOp::kIdentity:
      std::memcpy(out, in, pixels * kChannels);
      return;
    case AugmentOp::kAutoContrast:
      autocontrast(out, in, pixels);
      return;
    case AugmentOp::kEqualize:
      equalize(out, in, pixels);
      return;
    case AugmentOp::kBrightness:
      brightness(out, in, pixels, static_cast<float>(magnitude));
      return;
    case AugmentOp::kSharpness:
      sharpness(out, in, H, W, static_cast<float>(magnitude));
      return;
    case AugmentOp::kShearX: {
      const double m[6] = {1, f32, 0, 0, 1, 0};
      image_warp_affine(out, in, H, W, m, fill);
      return;
    }
    case AugmentOp::kShearY: {
      const double m[6] = {1, 0, 0, f32, 1, 0};
      image_warp_affine(out, in, H, W, m, fill);
      return;
    }
    case AugmentOp::kTranslateX: {
      const double m[6] = {1, 0, -f32, 0, 1, 0};
      image_warp_affine(out, in, H, W, m, fill);
      return;
    }
    case AugmentOp::kTranslateY: {
      const double m[6] = {1, 0, 0, 0, 1, -f32};
      image_warp_affine(out, in, H, W, m, fill);
      return;
    }
    case AugmentOp::kRotate: {
      double m[6];
      rotation_matrix(m, magnitude, H, W);
      image_warp_affine(out, in, H, W, m, fill);
      return;
    }
  }
}

}  // namespace posapl
