#include "posapl/image_warp.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace posapl {

namespace {

constexpr int kInterBits = 5;                   // 1/32-pixel source positions
constexpr int kInterTabSize = 1 << kInterBits;
constexpr int kAbBits = 10;                     // fixed point of the mapped coordinates
constexpr int64_t kAbScale = 1 << kAbBits;
constexpr int kCoefBits = 15;                   // bilinear weights sum to 1 << 15

// cvRound: nearest, ties to even, kept inside int32 as saturate_cast<int> would need.
int64_t cv_round(double v) {
  const double r = std::nearbyint(v);
  return static_cast<int64_t>(std::clamp(r, -2147483648.0, 2147483647.0));
}

int64_t saturate_short(int64_t v) { return std::clamp<int64_t>(v, -32768, 32767); }

}  // namespace

void image_warp_affine(uint8_t* out, const uint8_t* in, int64_t H, int64_t W, const double m[6], uint8_t fill) {
  // Invert the forward map the way cv::warpAffine does, term by term.
  double M[6] = {m[0], m[1], m[2], m[3], m[4], m[5]};
  double D = M[0] * M[4] - M[1] * M[3];
  D = D != 0 ? 1. / D : 0;
  const double A11 = M[4] * D, A22 = M[0] * D;
  M[0] = A11;
  M[1] *= -D;
  M[3] *= -D;
  M[4] = A22;
  const double b1 = -M[0] * M[2] - M[1] * M[5];
  const double b2 = -M[3] * M[2] - M[4] * M[5];
  M[2] = b1;
  M[5] = b2;

  std::vector<int64_t> adelta(W), bdelta(W);  // (W) per-column parts of the source position
  for (int64_t x = 0; x < W; ++x) {
    adelta[x] = cv_round(M[0] * x * kAbScale);
    bdelta[x] = cv_round(M[3] * x * kAbScale);
  }
  const int64_t round_delta = kAbScale / kInterTabSize / 2;
  for (int64_t y = 0; y < H; ++y) {
    const int64_t X0 = cv_round((M[1] * y + M[2]) * kAbScale) + round_delta;
    const int64_t Y0 = cv_round((M[4] * y + M[5]) * kAbScale) + round_delta;
    uint8_t* dst = out + y * W * 3;
    for (int64_t x = 0; x < W; ++x) {
      const int64_t X = (X0 + adelta[x]) >> (kAbBits - kInterBits);
      const int64_t Y = (Y0 + bdelta[x]) >> (kAbBits - kInterBits);
      const int64_t sx = saturate_short(X >> kInterBits), sy = saturate_short(Y >> kInterBits);
      const int32_t fx = static_cast<int32_t>(X & (kInterTabSize - 1));
      const int32_t fy = static_cast<int32_t>(Y & (kInterTabSize - 1));
      // OpenCV's bilinear table: products of (1 - t, t) at t = k/32, scaled by 2^15 (exact).
      const int32_t scale = (1 << kCoefBits) / (kInterTabSize * kInterTabSize);
      const int32_t w[4] = {(kInterTabSize - fx) * (kInterTabSize - fy) * scale, fx * (kInterTabSize - fy) * scale,
                            (kInterTabSize - fx) * fy * scale, fx * fy * scale};
      const int32_t half = 1 << (kCoefBits - 1);
      if (sx >= 0 && sx + 1 < W && sy >= 0 && sy + 1 < H) {
        const uint8_t* p = in + (sy * W + sx) * 3;  // the four taps are inside the image
        const uint8_t* q = p + W * 3;
        for (int c = 0; c < 3; ++c) {
          const int32_t sum = p[c] * w[0] + p[3 + c] * w[1] + q[c] * w[2] + q[3 + c] * w[3] + half;
          dst[x * 3 + c] = static_cast<uint8_t>(sum >> kCoefBits);
        }
        continue;
      }
      const int64_t tx[4] = {sx, sx + 1, sx, sx + 1}, ty[4] = {sy, sy, sy + 1, sy + 1};
      for (int c = 0; c < 3; ++c) {
        int32_t sum = half;
        for (int t = 0; t < 4; ++t) {
          const bool inside = tx[t] >= 0 && tx[t] < W && ty[t] >= 0 && ty[t] < H;
          sum += (inside ? in[(ty[t] * W + tx[t]) * 3 + c] : fill) * w[t];
        }
        dst[x * 3 + c] = static_cast<uint8_t>(std::clamp(sum >> kCoefBits, 0, 255));
      }
    }
  }
}

}  // namespace posapl
