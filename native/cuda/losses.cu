// The two retrieval losses on the device (posapl/losses.h), sharing S = I T^T.
//   1. S by the GEMM into the losses scratch.
//   2. Columns (block of 32 columns x kColRows row lanes): the text-to-image log-sum-exp of each
//      column, the sum of the hinge derivatives that flow into S_jj, and diag(S).
//   3. Rows (a warp each): the image-to-text softmax, each row's share of both losses, and the
//      row of G = dL/dS, written over its row of S (each element is read before it is written,
//      by the same lane).
//   4. One block sums the per-row shares in a fixed order (the same bits every run).
//   5. dI = G T and dT = G^T I by the GEMM; then the two values come back to the host.
// Everything that the CPU does in double is done in double here too.
#include <cmath>
#include <limits>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "warp_reduce.cuh"

namespace posapl::cuda {

namespace {

// c^gamma and gamma c^(gamma-1) for a hinge value c > 0; gamma 2 (the paper's) needs no pow.
__device__ __forceinline__ double hinge_power(double c, double gamma) { return gamma == 2.0 ? c * c : pow(c, gamma); }
__device__ __forceinline__ double hinge_power_grad(double c, double gamma) {
  return gamma == 2.0 ? 2.0 * c : gamma * pow(c, gamma - 1.0);
}

constexpr int kColRows = 16;

__global__ void loss_columns_kernel(double* __restrict__ col_lse, double* __restrict__ col_hinge_grad,
                                    double* __restrict__ diag, const float* __restrict__ S, int64_t N, double scale,
                                    double margin, double gamma) {
  __shared__ double part_a[kColRows][33];
  __shared__ double part_b[kColRows][33];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t j = blockIdx.x * int64_t{32} + tx;
  const bool active = j < N;

  double mx = -INFINITY;
  if (active)
    for (int64_t i = ty; i < N; i += kColRows) mx = fmax(mx, scale * S[i * N + j]);
  part_a[ty][tx] = mx;
  __syncthreads();
  mx = part_a[0][tx];
  for (int k = 1; k < kColRows; ++k) mx = fmax(mx, part_a[k][tx]);
  __syncthreads();  // part_a is reused below

  double sum_exp = 0.0, hinge = 0.0;
  const double d_j = active ? static_cast<double>(S[j * N + j]) : 0.0;
  if (active) {
    for (int64_t i = ty; i < N; i += kColRows) {
      const double s = S[i * N + j];
      sum_exp += exp(scale * s - mx);
      const double c_im = margin + s - d_j;
      if (i != j && c_im > 0.0) hinge += hinge_power_grad(c_im, gamma);
    }
  }
  part_a[ty][tx] = sum_exp;
  part_b[ty][tx] = hinge;
  __syncthreads();
  if (ty == 0 && active) {
    for (int k = 1; k < kColRows; ++k) {
      sum_exp += part_a[k][tx];
      hinge += part_b[k][tx];
    }
    col_lse[j] = mx + log(sum_exp);
    col_hinge_grad[j] = hinge;
    diag[j] = d_j;
  }
}

// Row i of S -> row i of G, and row i's shares of L_c (before / 2N) and L_t (before / 2):
//   dL_c/dS_ij = scale (R_ij + C_ij - 2 P_ij) / (2N)   R row softmax, C column softmax
//   dL_t/dS_ij = (gamma/2) (c_s^(gamma-1) + c_im^(gamma-1))                for i != j
//   dL_t/dS_ii = -(gamma/2) (sum_j c_s(i,j)^(gamma-1) + sum_k c_im(k,i)^(gamma-1))
__global__ void loss_rows_kernel(float* SG, double* __restrict__ row_contrastive, double* __restrict__ row_triplet,
                                 const double* __restrict__ col_lse, const double* __restrict__ col_hinge_grad,
                                 const double* __restrict__ diag, const int32_t* __restrict__ ids, int64_t N,
                                 double scale, double margin, double gamma, double wc, double wt) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = int64_t{gridDim.x} * kRowsPerBlock;
  for (int64_t i = blockIdx.x * int64_t{kRowsPerBlock} + (threadIdx.x >> 5); i < N; i += warps) {
    float* row = SG + i * N;
    const int32_t id_i = ids[i];
    int64_t same = 0;
    double row_max = -INFINITY;
    for (int64_t j = lane; j < N; j += 32) {
      same += ids[j] == id_i;
      row_max = fmax(row_max, scale * row[j]);
    }
    same = warp_sum(same);
    row_max = warp_max(row_max);
    double sum_exp = 0.0;
    for (int64_t j = lane; j < N; j += 32) sum_exp += exp(scale * row[j] - row_max);
    const double row_lse = row_max + log(warp_sum(sum_exp));
    const double target = 1.0 / static_cast<double>(same);
    const double d_i = diag[i];

    double contrastive = 0.0, triplet = 0.0, diag_hinge_grad = 0.0, g_diag = 0.0;
    for (int64_t j = lane; j < N; j += 32) {
      const double s = row[j];
      const double z = scale * s;
      const double p = ids[j] == id_i ? target : 0.0;
      contrastive += p * (row_lse - z) + p * (col_lse[j] - z);
      double g = wc * (exp(z - row_lse) + exp(z - col_lse[j]) - 2.0 * p);
      if (j == i) {
        g_diag = g;  // finished below, once the row's hinge sum is known
        continue;
      }
      const double c_s = margin + s - d_i;
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
      row[j] = static_cast<float>(g);
    }
    contrastive = warp_sum(contrastive);
    triplet = warp_sum(triplet);
    diag_hinge_grad = warp_sum(diag_hinge_grad);
    if (lane == static_cast<int>(i & 31)) row[i] = static_cast<float>(g_diag - wt * (diag_hinge_grad + col_hinge_grad[i]));
    if (lane == 0) {
      row_contrastive[i] = contrastive;
      row_triplet[i] = triplet;
    }
  }
}

constexpr int kSumThreads = 512;

// values[0] = sum(row_contrastive) / 2N, values[1] = sum(row_triplet) / 2, in a fixed order.
__global__ void loss_values_kernel(double* __restrict__ values, const double* __restrict__ row_contrastive,
                                   const double* __restrict__ row_triplet, int64_t N) {
  __shared__ double part_c[kSumThreads];
  __shared__ double part_t[kSumThreads];
  double c = 0.0, t = 0.0;
  for (int64_t i = threadIdx.x; i < N; i += kSumThreads) {
    c += row_contrastive[i];
    t += row_triplet[i];
  }
  part_c[threadIdx.x] = c;
  part_t[threadIdx.x] = t;
  __syncthreads();
  for (int half = kSumThreads / 2; half > 0; half >>= 1) {
    if (static_cast<int>(threadIdx.x) < half) {
      part_c[threadIdx.x] += part_c[threadIdx.x + half];
      part_t[threadIdx.x] += part_t[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    values[0] = part_c[0] / (2.0 * static_cast<double>(N));
    values[1] = part_t[0] / 2.0;
  }
}

}  // namespace

RetrievalLossValues retrieval_losses(float* dI, float* dT, const float* I, const float* T, const int32_t* ids,
                                     int64_t N, int64_t E, const RetrievalLossOptions& options) {
  const ExactFp32Scope exact;  // adapters and losses: exact fp32 (cuda_common.cuh)
  if (N == 0) return {std::numeric_limits<double>::quiet_NaN(), 0.0};  // the CPU's 0 / 0 and 0 / 2
  const double scale = options.logit_scale, margin = options.margin, gamma = options.gamma;
  const double wc = options.contrastive_weight * scale / (2.0 * N);
  const double wt = options.triplet_weight / 2.0;  // times gamma c^(gamma-1) from hinge_power_grad

  // Scratch: 5 (N) double vectors and the two values, then S (N,N), which becomes G.
  const size_t doubles = 5 * static_cast<size_t>(N) + 2;
  char* base = static_cast<char*>(
      scratch(ScratchSlot::Losses, doubles * sizeof(double) + static_cast<size_t>(N) * N * sizeof(float)));
  double* col_lse = reinterpret_cast<double*>(base);
  double* col_hinge_grad = col_lse + N;
  double* diag = col_hinge_grad + N;
  double* row_contrastive = diag + N;
  double* row_triplet = row_contrastive + N;
  double* values = row_triplet + N;
  float* SG = reinterpret_cast<float*>(base + doubles * sizeof(double));

  cuda::gemm(false, true, N, N, E, 1.0f, I, E, T, E, 0.0f, SG, N, nullptr, Activation::None, nullptr);
  const int64_t col_blocks = (N + 31) / 32;
  loss_columns_kernel<<<static_cast<unsigned>(col_blocks), dim3(32, kColRows), 0, stream()>>>(
      col_lse, col_hinge_grad, diag, SG, N, scale, margin, gamma);
  POSAPL_CUDA_LAUNCHED("loss_columns_kernel");
  loss_rows_kernel<<<grid_for(N, kRowsPerBlock), kRowThreads, 0, stream()>>>(
      SG, row_contrastive, row_triplet, col_lse, col_hinge_grad, diag, ids, N, scale, margin, gamma, wc, wt);
  POSAPL_CUDA_LAUNCHED("loss_rows_kernel");
  loss_values_kernel<<<1, kSumThreads, 0, stream()>>>(values, row_contrastive, row_triplet, N);
  POSAPL_CUDA_LAUNCHED("loss_values_kernel");

  // dI = G T, dT = G^T I: enqueued before the wait, so the GPU never idles on the round trip.
  if (dI != nullptr)
    cuda::gemm(false, false, N, E, N, 1.0f, SG, N, T, E, 0.0f, dI, E, nullptr, Activation::None, nullptr);
  if (dT != nullptr)
    cuda::gemm(true, false, N, E, N, 1.0f, SG, N, I, E, 0.0f, dT, E, nullptr, Activation::None, nullptr);

  double host[2] = {0.0, 0.0};
  POSAPL_CUDA_CHECK(cudaMemcpyAsync(host, values, sizeof host, cudaMemcpyDeviceToHost, stream()));
  POSAPL_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return {host[0], host[1]};
}

}  // namespace posapl::cuda
