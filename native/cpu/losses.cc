#include "posapl/losses.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "posapl/gemm.h"
#include "posapl/threadpool.h"

namespace posapl {

namespace {

// c^gamma and its derivative gamma c^(gamma-1) for a hinge value c > 0; gamma 2 is the
// paper's and needs no pow.
inline double hinge_power(double c, double gamma) { return gamma == 2.0 ? c * c : std::pow(c, gamma); }
inline double hinge_power_grad(double c, double gamma) {
  return gamma == 2.0 ? 2.0 * c : gamma * std::pow(c, gamma - 1.0);
}

// Rows (or columns) per thread chunk: about 8K matrix entries each.
inline int64_t grain_for(int64_t N) { return std::max<int64_t>(1, 8192 / N); }

}  // namespace

RetrievalLossValues retrieval_losses(float* dI, float* dT, const float* I, const float* T, const int32_t* ids,
                                     int64_t N, int64_t E, const RetrievalLossOptions& options) {
  const double scale = options.logit_scale;
  const double margin = options.margin;
  const double gamma = options.gamma;

  std::vector<float> S(N * N);  // (N,N) similarities I T^T
  gemm(false, true, N, N, E, 1.0f, I, E, T, E, 0.0f, S.data(), N, nullptr, Activation::None, nullptr);
  std::vector<double> diag(N);  // (N) S_ii
  for (int64_t i = 0; i < N; ++i) diag[i] = S[i * N + i];

  // Per column j: log-sum-exp of Z_.j (the text-to-image softmax), and the sum over images i
  // of d c_im(i,j)^gamma / d c_im, which all flows into S_jj. Rows are streamed so that each
  // thread reads its columns contiguously.
  std::vector<double> col_lse(N, -std::numeric_limits<double>::infinity());  // (N) max, then lse
  std::vector<double> col_sum_exp(N);     // (N)
  std::vector<double> col_hinge_grad(N);  // (N)
  parallel_for(N, grain_for(N), [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = j0; j < j1; ++j) col_lse[j] = std::max(col_lse[j], scale * S[i * N + j]);
    for (int64_t i = 0; i < N; ++i) {
      for (int64_t j = j0; j < j1; ++j) {
        const double s = S[i * N + j];
        col_sum_exp[j] += std::exp(scale * s - col_lse[j]);
        const double c_im = margin + s - diag[j];
        if (i != j && c_im > 0.0) col_hinge_grad[j] += hinge_power_grad(c_im, gamma);
      }
    }
    for (int64_t j = j0; j < j1; ++j) col_lse[j] += std::log(col_sum_exp[j]);
  });

  // Per row i: the image-to-text softmax, both contrastive terms' share of row i, the hinge
  // terms, and the row of G = dL/dS:
  //   dL_c/dS_ij = scale (R_ij + C_ij - 2 P_ij) / (2N)   R row softmax, C column softmax
  //   dL_t/dS_ij = (gamma/2) (c_s^(gamma-1) + c_im^(gamma-1))                for i != j
  //   dL_t/dS_ii = -(gamma/2) (sum_j c_s(i,j)^(gamma-1) + sum_k c_im(k,i)^(gamma-1))
  std::vector<float> G(N * N);            // (N,N)
  std::vector<double> row_contrastive(N);  // (N) summed once at the end, in a fixed order
  std::vector<double> row_triplet(N);      // (N)
  const double wc = options.contrastive_weight * scale / (2.0 * N);
  const double wt = options.triplet_weight / 2.0;  // times gamma c^(gamma-1) from hinge_power_grad
  parallel_for(N, grain_for(N), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float* s_row = &S[i * N];
      float* g_row = &G[i * N];
      int64_t same = 0;
      double row_max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < N; ++j) {
        same += ids[j] == ids[i];
        row_max = std::max(row_max, scale * s_row[j]);
      }
      double sum_exp = 0.0;
      for (int64_t j = 0; j < N; ++j) sum_exp += std::exp(scale * s_row[j] - row_max);
      const double row_lse = row_max + std::log(sum_exp);
      const double target = 1.0 / static_cast<double>(same);

      double contrastive = 0.0, triplet = 0.0, diag_hinge_grad = 0.0, g_diag = 0.0;
      for (int64_t j = 0; j < N; ++j) {
        const double s = s_row[j];
        const double z = scale * s;
        const double p = ids[j] == ids[i] ? target : 0.0;
        contrastive += p * (row_lse - z) + p * (col_lse[j] - z);
        double g = wc * (std::exp(z - row_lse) + std::exp(z - col_lse[j]) - 2.0 * p);
        if (j != i) {
          const double c_s = margin + s - diag[i];
          const double c_im = margin + s - diag[j];
          if (c_s > 0.0) {
            triplet += hinge_power(c_s, gamma);
            const double d = hinge_power_grad(c_s, gamma);
            g += wt * d;
            diag_hinge_grad += d;
          }
          if (c_im > 0.0) {
            triplet += hinge_power(c_im, gamma);
            g += wt * hinge_power_grad(c_im, gamma);
          }
        }
        if (j == i) g_diag = g;
        g_row[j] = static_cast<float>(g);
      }
      g_row[i] = static_cast<float>(g_diag - wt * (diag_hinge_grad + col_hinge_grad[i]));
      row_contrastive[i] = contrastive;
      row_triplet[i] = triplet;
    }
  });

  RetrievalLossValues values{0.0, 0.0};
  for (int64_t i = 0; i < N; ++i) {
    values.contrastive += row_contrastive[i];
    values.triplet += row_triplet[i];
  }
  values.contrastive /= 2.0 * N;
  values.triplet /= 2.0;

  // dI = G T, dT = G^T I.
  if (dI) gemm(false, false, N, E, N, 1.0f, G.data(), N, T, E, 0.0f, dI, E, nullptr, Activation::None, nullptr);
  if (dT) gemm(true, false, N, E, N, 1.0f, G.data(), N, I, E, 0.0f, dT, E, nullptr, Activation::None, nullptr);
  return values;
}

}  // namespace posapl
