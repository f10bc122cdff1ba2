// Side Fusion on the device: the CPU's sequence (native/cpu/side_fusion.cc) through cuda::gemm /
// cuda::bias_grad, and kernels for its group sums, broadcast adds and ReLU spreads. Saved and
// scratch layouts are those of posapl/side_fusion.h. Calls are qualified (cuda::gemm):
// Activation arguments would otherwise also find the CPU posapl::gemm by argument-dependent
// lookup.
//
// The tensors are viewed as G groups of P rows of C: with the token mean G = N, P = L; without
// it G = N*L, P = 1, so a "mean" is the row itself and a broadcast is a plain add.
#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

// Rows run over blockIdx.y and the C columns over x, both grid-stride, so threads of a warp read
// neighbouring columns and no per-element index is divided.
constexpr int kThreads = 128;

dim3 row_grid(int64_t rows, int64_t C) {
  return dim3(grid_for(C, kThreads), static_cast<unsigned>(rows < 65535 ? rows : 65535));
}

// out (G,C) (+)= scale * sum over the P rows of x (G,P,C): one thread per output element, its
// rows summed in order.
__global__ void group_sum_kernel(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale,
                                 bool accumulate) {
  for (int64_t g = blockIdx.y; g < G; g += gridDim.y)
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const float* r = x + g * P * C + c;
      float acc = accumulate ? out[g * C + c] : 0.0f;
      for (int64_t p = 0; p < P; ++p) acc += scale * r[p * C];
      out[g * C + c] = acc;
    }
}

void group_sum(float* out, const float* x, int64_t G, int64_t P, int64_t C, float scale, bool accumulate) {
  if (G <= 0 || C <= 0) return;
  group_sum_kernel<<<row_grid(G, C), kThreads, 0, stream()>>>(out, x, G, P, C, scale, accumulate);
  POSAPL_CUDA_LAUNCHED("side_fusion group_sum_kernel");
}

// out (G,P,C) = x (G,P,C) + scale * s (G,C) broadcast over P; x may be null (then out is the
// broadcast alone).
__global__ void add_broadcast_kernel(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P,
                                     int64_t C) {
  for (int64_t row = blockIdx.y; row < G * P; row += gridDim.y) {
    const float* s_row = s + (row / P) * C;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t i = row * C + c;
      out[i] = (x != nullptr ? x[i] : 0.0f) + scale * s_row[c];
    }
  }
}

void add_broadcast(float* out, const float* x, const float* s, float scale, int64_t G, int64_t P, int64_t C) {
  if (G * P <= 0 || C <= 0) return;
  add_broadcast_kernel<<<row_grid(G * P, C), kThreads, 0, stream()>>>(out, x, s, scale, G, P, C);
  POSAPL_CUDA_LAUNCHED("side_fusion add_broadcast_kernel");
}

// dpre (G,P,C) = ds (G,C) / P broadcast over P where h > 0 (the ReLU was open), else 0.
__global__ void relu_spread_kernel(float* dpre, const float* ds, const float* h, float scale, int64_t G, int64_t P,
                                   int64_t C) {
  for (int64_t row = blockIdx.y; row < G * P; row += gridDim.y) {
    const float* ds_row = ds + (row / P) * C;
    for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
         c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t i = row * C + c;
      dpre[i] = h[i] > 0.0f ? ds_row[c] * scale : 0.0f;
    }
  }
}

void relu_spread(float* dpre, const float* ds, const float* h, int64_t G, int64_t P, int64_t C) {
  if (G * P <= 0 || C <= 0) return;
  const float scale = 1.0f / static_cast<float>(P);
  relu_spread_kernel<<<row_grid(G * P, C), kThreads, 0, stream()>>>(dpre, ds, h, scale, G, P, C);
  POSAPL_CUDA_LAUNCHED("side_fusion relu_spread_kernel");
}

// y (T,C) = ReLU(x w^T + b)
void linear_relu(float* y, const float* x, const float* w, const float* b, int64_t T, int64_t C) {
  cuda::gemm(false, true, T, C, C, 1.0f, x, C, w, C, 0.0f, y, C, b, Activation::Relu, nullptr);
}

}  // namespace

void side_fusion_forward(float* s4, float* saved, const float* f1, const float* f2, const float* f3, const float* f4,
                         const float* w1, const float* b1, const float* w2, const float* b2, const float* w3,
                         const float* b3, const float* w4, const float* b4, int64_t N, int64_t L, int64_t C,
                         bool chained, bool mean) {
  const ExactFp32Scope exact;  // adapters and losses: exact fp32 (cuda_common.cuh)
  const int64_t T = N * L;               // tokens
  const int64_t G = mean ? N : T;        // rows of s_k and s4
  const int64_t P = mean ? L : 1;        // tokens averaged into one row
  const float inv_p = 1.0f / static_cast<float>(P);
  float* h1 = saved;                     // (T,C)
  float* h2 = h1 + T * C;                // (T,C)
  float* h3 = h2 + T * C;                // (T,C)
  float* z2 = h3 + T * C;                // (T,C), chained only
  float* z3 = z2 + T * C;                // (T,C), chained only
  float* u = chained ? z3 + T * C : z2;  // (G,C)

  linear_relu(h1, f1, w1, b1, T, C);
  if (chained) {
    // With the mean, s_k (G,C) is built in u's place, which is free until the end.
    const float* s1 = h1;
    if (mean) {
      group_sum(u, h1, G, P, C, inv_p, false);
      s1 = u;
    }
    add_broadcast(z2, f2, s1, 1.0f, G, P, C);
    linear_relu(h2, z2, w2, b2, T, C);
    const float* s2 = h2;
    if (mean) {
      group_sum(u, h2, G, P, C, inv_p, false);
      s2 = u;
    }
    add_broadcast(z3, f3, s2, 1.0f, G, P, C);
    linear_relu(h3, z3, w3, b3, T, C);
    // u = mean(f4) + mean(h3), or f4 + h3 per token.
    group_sum(u, h3, G, P, C, inv_p, false);
    group_sum(u, f4, G, P, C, inv_p, true);
  } else {
    linear_relu(h2, f2, w2, b2, T, C);
    linear_relu(h3, f3, w3, b3, T, C);
    group_sum(u, h1, G, P, C, inv_p, false);
    group_sum(u, h2, G, P, C, inv_p, true);
    group_sum(u, h3, G, P, C, inv_p, true);
  }
  cuda::gemm(false, true, G, C, C, 1.0f, u, C, w4, C, 0.0f, s4, C, b4, Activation::None, nullptr);
}

void side_fusion_backward(float* df1, float* df2, float* df3, float* df4, float* dw1, float* db1, float* dw2,
                          float* db2, float* dw3, float* db3, float* dw4, float* db4, float* scratch,
                          const float* ds4, const float* f1, const float* f2, const float* f3, const float* w1,
                          const float* w2, const float* w3, const float* w4, const float* saved, int64_t N,
                          int64_t L, int64_t C, bool chained, bool mean) {
  const ExactFp32Scope exact;  // adapters and losses: exact fp32 (cuda_common.cuh)
  const int64_t T = N * L;
  const int64_t G = mean ? N : T;
  const int64_t P = mean ? L : 1;
  const float* h[3] = {saved, saved + T * C, saved + 2 * T * C};  // (T,C) each
  const float* z2 = saved + 3 * T * C;                            // (T,C), chained only
  const float* z3 = z2 + T * C;                                   // (T,C), chained only
  const float* u = chained ? z3 + T * C : z2;                     // (G,C)
  float* du = scratch;       // (G,C)
  float* ds = du + G * C;    // (G,C)
  float* dpre = ds + G * C;  // (T,C)
  float* dz = dpre + T * C;  // (T,C)

  // Linear4.
  cuda::gemm(true, false, C, C, G, 1.0f, ds4, C, u, C, 1.0f, dw4, C, nullptr, Activation::None, nullptr);
  cuda::bias_grad(db4, ds4, G, C, true);
  cuda::gemm(false, false, G, C, C, 1.0f, ds4, C, w4, C, 0.0f, du, C, nullptr, Activation::None, nullptr);

  const float* w[3] = {w1, w2, w3};
  float* dw[3] = {dw1, dw2, dw3};
  float* db[3] = {db1, db2, db3};
  float* df[3] = {df1, df2, df3};
  if (chained) {
    // u = mean(f4 + s3): each token of f4 gets du / P; s3 gets du.
    if (df4 != nullptr) add_broadcast(df4, nullptr, du, 1.0f / static_cast<float>(P), G, P, C);
    const float* z[3] = {f1, z2, z3};
    const float* ds_k = du;  // (G,C): the gradient of s_k
    for (int k = 2; k >= 0; --k) {
      relu_spread(dpre, ds_k, h[k], G, P, C);
      cuda::gemm(true, false, C, C, T, 1.0f, dpre, C, z[k], C, 1.0f, dw[k], C, nullptr, Activation::None, nullptr);
      cuda::bias_grad(db[k], dpre, T, C, true);
      if (k == 0 && df[0] == nullptr) break;
      // dz_k is df_k (the tap gets the whole input gradient), and s_{k-1} collects it over tokens.
      float* dz_k = df[k] != nullptr ? df[k] : dz;
      cuda::gemm(false, false, T, C, C, 1.0f, dpre, C, w[k], C, 0.0f, dz_k, C, nullptr, Activation::None, nullptr);
      if (k == 0) break;
      if (mean) {
        group_sum(ds, dz_k, G, P, C, 1.0f, false);
        ds_k = ds;
      } else {
        ds_k = dz_k;
      }
    }
  } else {
    const float* f[3] = {f1, f2, f3};
    for (int k = 0; k < 3; ++k) {
      relu_spread(dpre, du, h[k], G, P, C);
      cuda::gemm(true, false, C, C, T, 1.0f, dpre, C, f[k], C, 1.0f, dw[k], C, nullptr, Activation::None, nullptr);
      cuda::bias_grad(db[k], dpre, T, C, true);
      if (df[k] != nullptr)
        cuda::gemm(false, false, T, C, C, 1.0f, dpre, C, w[k], C, 0.0f, df[k], C, nullptr, Activation::None, nullptr);
    }
  }
}

}  // namespace posapl::cuda
