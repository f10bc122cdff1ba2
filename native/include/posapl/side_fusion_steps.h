// Side Fusion's forward and backward (posapl/side_fusion.h) as one sequence of primitive ops,
// written once for every backend. `Ops` is a backend's primitive set (native/cpu/step_ops.h,
// native/cuda/step_ops.h): static gemm, bias_grad and the three group ops below.
//
// The tensors are viewed as G groups of P rows of C: with the token mean G = N, P = L; without
// it G = N*L, P = 1, so a "mean" is the row itself and a broadcast is a plain add.
//   group_sum(out, x, G, P, C, scale, accumulate):  out (G,C) (+)= scale * sum over P of x (G,P,C)
//   add_broadcast(out, x, s, scale, G, P, C):       out (G,P,C) = x + scale * s (G,C); x may be null
//   relu_spread(dpre, ds, h, G, P, C):              dpre (G,P,C) = ds / P where h > 0, else 0
#pragma once

#include <cstdint>

#include "posapl/activations.h"

namespace posapl {

namespace side_fusion_detail {

// y (T,C) = ReLU(x w^T + b)
template <class Ops>
void linear_relu(float* y, const float* x, const float* w, const float* b, int64_t T, int64_t C) {
  Ops::gemm(false, true, T, C, C, 1.0f, x, C, w, C, 0.0f, y, C, b, Activation::Relu, nullptr);
}

}  // namespace side_fusion_detail

template <class Ops>
void side_fusion_forward_steps(float* s4, float* saved, const float* f1, const float* f2, const float* f3,
                               const float* f4,
                         const float* w1, const float* b1, const float* w2, const float* b2, const float* w3,
                         const float* b3, const float* w4, const float* b4, int64_t N, int64_t L, int64_t C,
                         bool chained, bool mean) {
  using side_fusion_detail::linear_relu;
  const int64_t T = N * L;              // tokens
  const int64_t G = mean ? N : T;       // rows of s_k and s4
  const int64_t P = mean ? L : 1;       // tokens averaged into one row
  const float inv_p = 1.0f / static_cast<float>(P);
  float* h1 = saved;                    // (T,C)
  float* h2 = h1 + T * C;               // (T,C)
  float* h3 = h2 + T * C;               // (T,C)
  float* z2 = h3 + T * C;               // (T,C), chained only
  float* z3 = z2 + T * C;               // (T,C), chained only
  float* u = chained ? z3 + T * C : z2;  // (G,C)

  linear_relu<Ops>(h1, f1, w1, b1, T, C);
  if (chained) {
    // With the mean, s_k (G,C) is built in u's place, which is free until the end.
    const float* s1 = h1;
    if (mean) {
      Ops::group_sum(u, h1, G, P, C, inv_p, false);
      s1 = u;
    }
    Ops::add_broadcast(z2, f2, s1, 1.0f, G, P, C);
    linear_relu<Ops>(h2, z2, w2, b2, T, C);
    const float* s2 = h2;
    if (mean) {
      Ops::group_sum(u, h2, G, P, C, inv_p, false);
      s2 = u;
    }
    Ops::add_broadcast(z3, f3, s2, 1.0f, G, P, C);
    linear_relu<Ops>(h3, z3, w3, b3, T, C);
    // u = mean(f4) + mean(h3), or f4 + h3 per token.
    Ops::group_sum(u, h3, G, P, C, inv_p, false);
    Ops::group_sum(u, f4, G, P, C, inv_p, true);
  } else {
    linear_relu<Ops>(h2, f2, w2, b2, T, C);
    linear_relu<Ops>(h3, f3, w3, b3, T, C);
    Ops::group_sum(u, h1, G, P, C, inv_p, false);
    Ops::group_sum(u, h2, G, P, C, inv_p, true);
    Ops::group_sum(u, h3, G, P, C, inv_p, true);
  }
  Ops::gemm(false, true, G, C, C, 1.0f, u, C, w4, C, 0.0f, s4, C, b4, Activation::None, nullptr);
}

template <class Ops>
void side_fusion_backward_steps(float* df1, float* df2, float* df3, float* df4, float* dw1, float* db1, float* dw2,
                                float* db2, float* dw3, float* db3, float* dw4, float* db4, float* scratch,
                                const float* ds4, const float* f1, const float* f2, const float* f3, const float* w1,
                                const float* w2, const float* w3, const float* w4, const float* saved, int64_t N,
                                int64_t L, int64_t C, bool chained, bool mean) {
  const int64_t T = N * L;
  const int64_t G = mean ? N : T;
  const int64_t P = mean ? L : 1;
  const float* h[3] = {saved, saved + T * C, saved + 2 * T * C};  // (T,C) each
  const float* z2 = saved + 3 * T * C;                            // (T,C), chained only
  const float* z3 = z2 + T * C;                                   // (T,C), chained only
  const float* u = chained ? z3 + T * C : z2;                     // (G,C)
  float* du = scratch;        // (G,C)
  float* ds = du + G * C;     // (G,C)
  float* dpre = ds + G * C;   // (T,C)
  float* dz = dpre + T * C;   // (T,C)

  // Linear4.
  Ops::gemm(true, false, C, C, G, 1.0f, ds4, C, u, C, 1.0f, dw4, C, nullptr, Activation::None, nullptr);
  Ops::bias_grad(db4, ds4, G, C, true);
  Ops::gemm(false, false, G, C, C, 1.0f, ds4, C, w4, C, 0.0f, du, C, nullptr, Activation::None, nullptr);

  const float* w[3] = {w1, w2, w3};
  float* dw[3] = {dw1, dw2, dw3};
  float* db[3] = {db1, db2, db3};
  float* df[3] = {df1, df2, df3};
  if (chained) {
    // u = mean(f4 + s3): each token of f4 gets du / P; s3 gets du.
    if (df4 != nullptr) Ops::add_broadcast(df4, nullptr, du, 1.0f / static_cast<float>(P), G, P, C);
    const float* z[3] = {f1, z2, z3};
    const float* ds_k = du;  // (G,C): the gradient of s_k
    for (int k = 2; k >= 0; --k) {
      Ops::relu_spread(dpre, ds_k, h[k], G, P, C);
      Ops::gemm(true, false, C, C, T, 1.0f, dpre, C, z[k], C, 1.0f, dw[k], C, nullptr, Activation::None, nullptr);
      Ops::bias_grad(db[k], dpre, T, C, true);
      if (k == 0 && df[0] == nullptr) break;
      // dz_k is df_k (the tap gets the whole input gradient), and s_{k-1} collects it over tokens.
      float* dz_k = df[k] != nullptr ? df[k] : dz;
      Ops::gemm(false, false, T, C, C, 1.0f, dpre, C, w[k], C, 0.0f, dz_k, C, nullptr, Activation::None, nullptr);
      if (k == 0) break;
      if (mean) {
        Ops::group_sum(ds, dz_k, G, P, C, 1.0f, false);
        ds_k = ds;
      } else {
        ds_k = dz_k;
      }
    }
  } else {
    const float* f[3] = {f1, f2, f3};
    for (int k = 0; k < 3; ++k) {
      Ops::relu_spread(dpre, du, h[k], G, P, C);
      Ops::gemm(true, false, C, C, T, 1.0f, dpre, C, f[k], C, 1.0f, dw[k], C, nullptr, Activation::None, nullptr);
      Ops::bias_grad(db[k], dpre, T, C, true);
      if (df[k] != nullptr)
        Ops::gemm(false, false, T, C, C, 1.0f, dpre, C, w[k], C, 0.0f, df[k], C, nullptr, Activation::None, nullptr);
    }
  }
}

}  // namespace posapl
