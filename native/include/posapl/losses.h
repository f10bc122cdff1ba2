// The two retrieval losses of POSAPL over one batch of N image/text pairs, sharing one
// similarity matrix. I (N,E) and T (N,E) are L2-normalised embeddings; S = I T^T (N,N).
//
// Contrastive ("modality alignment"), with soft targets from image ids:
//   Z = logit_scale * S      (the raw stored scalar, 4.6052 for LAION, not its exp)
//   P_ij = [id_i == id_j] / #{k : id_k == id_i}       (symmetric: equal ids have equal counts)
//   L_c = ( mean_i -sum_j P_ij log softmax_j(Z_i.)  +  mean_j -sum_i P_ji log softmax_i(Z_.j) ) / 2
// The second term is the authors' cross entropy on Z^T with the same label matrix.
//
// Power-scaled triplet, summed and blind to ids (diagonal terms are zero):
//   c_s(i,j)  = max(0, margin + S_ij - S_ii)     the text j as a negative for the image i
//   c_im(i,j) = max(0, margin + S_ij - S_jj)     the image i as a negative for the text j
//   L_t = ( sum_{i!=j} c_s^gamma + sum_{i!=j} c_im^gamma ) / 2
//
// Gradients are those of contrastive_weight * L_c + triplet_weight * L_t, so an ablation that
// switches a loss off passes weight 0. The loss values are returned whatever the weights.
#pragma once

#include <cstdint>

namespace posapl {

struct RetrievalLossOptions {
  float logit_scale;
  float margin;  // 0.1 in the paper
  float gamma;   // 2 in the paper; > 0
  float contrastive_weight;
  float triplet_weight;
};

struct RetrievalLossValues {
  double contrastive;  // L_c
  double triplet;      // L_t
};

// dI, dT (N,E) are overwritten with the gradients; either may be null when not wanted.
// I, T (N,E) embeddings; ids (N) image ids.
RetrievalLossValues retrieval_losses(float* dI, float* dT, const float* I, const float* T, const int32_t* ids,
                                     int64_t N, int64_t E, const RetrievalLossOptions& options);

}  // namespace posapl
