// The ViT stem on the device (posapl/patch_embed.h), as on the CPU: out starts as the
// positional table (plus the class embedding on token 0), then one GEMM over an im2col matrix
// with a zero row at each class-token slot adds conv1 in place (beta 1), so every token row is
// written by one launch without a second scratch.
#include <string>

#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

constexpr int kThreads = 256;

// cols (N*T, K), K ordered (channel, ky, kx) like conv1.weight; row n*T is zero (class token).
// A block per row, threads along it: consecutive threads take consecutive kx, so pixel reads run
// along image rows, and the per-element index arithmetic stays 32-bit.
__global__ void im2col_kernel(float* __restrict__ cols, const float* __restrict__ pixels, int64_t S, int P, int64_t G,
                              int64_t T, int K, int64_t rows) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    float* row = cols + r * K;
    const int64_t n = r / T, t = r % T;
    if (t == 0) {
      for (int k = threadIdx.x; k < K; k += blockDim.x) row[k] = 0.0f;
      continue;
    }
    const int64_t gy = (t - 1) / G, gx = (t - 1) % G;
    const float* patch = pixels + (n * 3 * S + gy * P) * S + gx * P;  // channel 0, (ky, kx) = (0, 0)
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
      const int c = k / (P * P), ky = (k / P) % P, kx = k % P;
      row[k] = patch[(c * S + ky) * S + kx];
    }
  }
}

// out[n,t,:] = positional[t,:] (+ class_embedding on t = 0); a block per token row.
__global__ void stem_init_kernel(float* __restrict__ out, const float* __restrict__ class_embedding,
                                 const float* __restrict__ positional, int64_t T, int64_t C, int64_t rows) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t t = r % T;
    const float* pos = positional + t * C;
    float* o = out + r * C;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = t == 0 ? pos[c] + class_embedding[c] : pos[c];
  }
}

}  // namespace

void patch_embed_forward(float* out, const float* pixels, const float* weight, const float* class_embedding,
                         const float* positional, int64_t N, int64_t S, int64_t P, int64_t C) {
  if (P <= 0 || S % P != 0)
    throw BackendError("POSAPL_SHAPE", "posapl: CUDA patch_embed_forward: the image size " + std::to_string(S) +
                                           " is not a multiple of the patch size " + std::to_string(P));
  const int64_t G = S / P, T = 1 + G * G, K = 3 * P * P;
  if (N == 0 || C == 0) return;
  const int64_t rows = N * T;
  if (K >= (int64_t{1} << 31))
    throw BackendError("POSAPL_SHAPE", "posapl: CUDA patch_embed_forward: the patch size " + std::to_string(P) +
                                           " is too large");
  stem_init_kernel<<<grid_for(rows, 1), kThreads, 0, stream()>>>(out, class_embedding, positional, T, C, rows);
  POSAPL_CUDA_LAUNCHED("stem_init_kernel");
  float* cols = static_cast<float*>(scratch(ScratchSlot::Op, sizeof(float) * static_cast<size_t>(rows * K)));
  im2col_kernel<<<grid_for(rows, 1), kThreads, 0, stream()>>>(cols, pixels, S, static_cast<int>(P), G, T,
                                                              static_cast<int>(K), rows);
  POSAPL_CUDA_LAUNCHED("im2col_kernel");
  cuda::gemm(false, true, N * T, C, K, 1.0f, cols, K, weight, K, 1.0f, out, C, nullptr, Activation::None, nullptr);
}

}  // namespace posapl::cuda
