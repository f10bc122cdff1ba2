#include "posapl/patch_embed.h"

#include <vector>

#include "posapl/gemm.h"
#include "posapl/threadpool.h"

namespace posapl {

void patch_embed_forward(float* out, const float* pixels, const float* weight, const float* class_embedding,
                         const float* positional, int64_t N, int64_t S, int64_t P, int64_t C) {
  const int64_t G = S / P, T = 1 + G * G, K = 3 * P * P;
  // im2col with a zero row at each class-token slot, so one GEMM writes every token row in place.
  std::vector<float> cols(static_cast<size_t>(N * T * K));  // (N,T,K), K ordered (channel, ky, kx)
  parallel_for(N * T, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* row = cols.data() + r * K;
      const int64_t n = r / T, t = r % T;
      if (t == 0) {
        for (int64_t k = 0; k < K; ++k) row[k] = 0.0f;
        continue;
      }
      const int64_t gy = (t - 1) / G, gx = (t - 1) % G;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t ky = 0; ky < P; ++ky) {
          const float* src = pixels + ((n * 3 + c) * S + gy * P + ky) * S + gx * P;
          float* dst = row + (c * P + ky) * P;
          for (int64_t kx = 0; kx < P; ++kx) dst[kx] = src[kx];
        }
    }
  });
  // out starts as the positional table (plus the class embedding on token 0), then the GEMM adds.
  parallel_for(N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* o = out + n * T * C;
      for (int64_t i = 0; i < T * C; ++i) o[i] = positional[i];
      for (int64_t c = 0; c < C; ++c) o[c] += class_embedding[c];
    }
  });
  gemm(false, true, N * T, C, K, 1.0f, cols.data(), K, weight, K, 1.0f, out, C, nullptr, Activation::None, nullptr);
}

}  // namespace posapl
