// Multi-head attention on the device (posapl/attention.h): qkv (B,L,3,H,D) packed, out
// (B,L,H*D), probs (B,H,L,L).
//
// One block per (batch, head), grid-striding over them. The block stages its head's K and V in
// shared memory; its warps take query rows in turn (four at a time in the forward, so that each
// K or V element read serves four rows), lanes over keys for the scores and over head
// dimensions for the products with V or K, so that every shared read is either a broadcast or
// conflict-free: where the 32 lanes read 32 different key rows, the row stride is odd (4 x odd
// for the forward's float4 reads).
//
// The backward runs in two block-wide phases so that no two warps add into one element (no
// atomics, the same bits every run):
//   1. query rows:  dP = dO V^T, dS = P (dP - rowsum(P dP)) into a shared (L,L) tile,
//                   dQ = dS K / sqrt(D)
//   2. key rows:    dK = dS^T Q / sqrt(D), dV = P^T dO, with Q and dO staged where K and V were.
//
// A shape whose tiles exceed the device's shared memory per block runs the same kernels with
// the tiles in a global workspace (the op scratch), fewer blocks at a time: slower, never wrong.
#include <algorithm>
#include <cmath>
#include <string>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "warp_reduce.cuh"

namespace posapl::cuda {

namespace {

constexpr int kMaxWarps = 8;

// An odd row stride: lanes reading column d of 32 consecutive rows hit 32 different banks.
__host__ __device__ inline int odd_stride(int D) { return D | 1; }

// sum_k a[k*sa] b[k*sb] over k < n in four independent chains: one running sum would be a
// serial FMA chain whose latency bounds these short loops.
__device__ __forceinline__ float strided_dot(const float* a, int sa, const float* b, int sb, int n) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k * sa] * b[k * sb];
    s1 += a[(k + 1) * sa] * b[(k + 1) * sb];
    s2 += a[(k + 2) * sa] * b[(k + 2) * sb];
    s3 += a[(k + 3) * sa] * b[(k + 3) * sb];
  }
  for (; k < n; ++k) s0 += a[k * sa] * b[k * sb];
  return (s0 + s1) + (s2 + s3);
}

// kWorkspace: the tiles live in the global workspace rather than in shared memory (a separate
// instantiation, so that the shared path compiles to shared-memory loads).
// The forward's tiles are read as float4: rows padded to a multiple of 4 floats (zeros), and
// K's row stride is 4 times an odd number, so that the 8 lanes of each quarter-warp reading
// 16 bytes of 8 different key rows hit distinct banks.
__host__ __device__ inline int round4(int n) { return (n + 3) & ~3; }
__host__ __device__ inline int k_stride4(int D) { return (round4(D) / 4) % 2 == 1 ? round4(D) : round4(D) + 4; }

// Query rows per warp pass: each K or V element loaded from shared memory serves this many rows.
constexpr int kRows = 4;

__device__ __forceinline__ float dot4(float4 a, float4 b, float acc) {
  acc = fmaf(a.x, b.x, acc);
  acc = fmaf(a.y, b.y, acc);
  acc = fmaf(a.z, b.z, acc);
  return fmaf(a.w, b.w, acc);
}

// Tiles: K (L, k_stride4(D)), V (round4(L), D) with zero rows past L, and per warp kRows query
// rows (round4(D)) and kRows probability rows (round4(L)).
inline int64_t forward_block_floats(int64_t L, int64_t D, int warps) {
  const int Lp = round4(static_cast<int>(L)), Dp = round4(static_cast<int>(D));
  return L * k_stride4(static_cast<int>(D)) + Lp * D + int64_t{warps} * kRows * (Dp + Lp);
}

// kWorkspace: the tiles live in the global workspace rather than in shared memory (a separate
// instantiation, so that the shared path compiles to shared-memory loads).
template <bool kWorkspace>
__global__ void attention_forward_kernel(float* __restrict__ out, float* __restrict__ probs,
                                         const float* __restrict__ qkv, int64_t BH, int L, int H, int D, bool causal,
                                         float scale, float* workspace, int64_t block_floats) {
  extern __shared__ float4 smem4[];
  float* buf = kWorkspace ? workspace + blockIdx.x * block_floats : reinterpret_cast<float*>(smem4);
  const int ks = k_stride4(D), Dp = round4(D), Lp = round4(L);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  float* k_s = buf;                                       // (L, ks)
  float* v_s = k_s + L * ks;                              // (Lp, D)
  float* q_w = v_s + Lp * D + warp * kRows * (Dp + Lp);  // (kRows, Dp) this warp's query rows
  float* p_w = q_w + kRows * Dp;                          // (kRows, Lp) their scores, then probabilities
  const int64_t HD = int64_t{H} * D, R = 3 * HD;

  for (int64_t bh = blockIdx.x; bh < BH; bh += gridDim.x) {
    const int64_t b = bh / H;
    const int h = static_cast<int>(bh % H);
    const float* head = qkv + b * L * R + int64_t{h} * D;  // q of token 0; k at +HD, v at +2HD
    __syncthreads();  // the previous head's readers are done with the tiles
    for (int idx = threadIdx.x; idx < L * ks; idx += blockDim.x) {
      const int j = idx / ks, d = idx % ks;
      k_s[idx] = d < D ? head[int64_t{j} * R + HD + d] : 0.0f;
    }
    for (int idx = threadIdx.x; idx < Lp * D; idx += blockDim.x) {
      const int j = idx / D, d = idx % D;
      v_s[idx] = j < L ? head[int64_t{j} * R + 2 * HD + d] : 0.0f;
    }
    __syncthreads();

    for (int i0 = warp * kRows; i0 < L; i0 += warps * kRows) {
      const int rows = min(kRows, L - i0);
      for (int idx = lane; idx < kRows * Dp; idx += 32) {
        const int r = idx / Dp, d = idx % Dp;
        q_w[idx] = r < rows && d < D ? head[int64_t{i0 + r} * R + d] : 0.0f;
      }
      __syncwarp();
      // Keys visible to the pass's last row; row r sees j <= i0 + r under the mask.
      const int n_max = causal ? i0 + rows : L;
      float mx[kRows];
      for (int r = 0; r < kRows; ++r) mx[r] = -INFINITY;
      for (int j = lane; j < n_max; j += 32) {
        const float4* k4 = reinterpret_cast<const float4*>(k_s + j * ks);
        float acc[kRows] = {};
        for (int d4 = 0; d4 < Dp / 4; ++d4) {
          const float4 k = k4[d4];
          for (int r = 0; r < kRows; ++r) acc[r] = dot4(reinterpret_cast<const float4*>(q_w + r * Dp)[d4], k, acc[r]);
        }
        for (int r = 0; r < kRows; ++r) {
          const bool visible = !causal || j <= i0 + r;
          const float sc = acc[r] * scale;  // the product scaled, as the CPU does
          p_w[r * Lp + j] = visible ? sc : -INFINITY;
          if (visible) mx[r] = fmaxf(mx[r], sc);
        }
      }
      float inv[kRows];
      for (int r = 0; r < kRows; ++r) {
        mx[r] = warp_max(mx[r]);
        float sum = 0.0f;
        for (int j = lane; j < n_max; j += 32) {
          const float e = expf(p_w[r * Lp + j] - mx[r]);  // masked: exp(-inf) = 0
          p_w[r * Lp + j] = e;
          sum += e;
        }
        inv[r] = 1.0f / warp_sum(sum);
      }
      for (int r = 0; r < kRows; ++r) {
        float* p_row = probs != nullptr && r < rows ? probs + (bh * L + i0 + r) * L : nullptr;
        for (int j = lane; j < Lp; j += 32) {
          const float p = j < n_max ? p_w[r * Lp + j] * inv[r] : 0.0f;
          p_w[r * Lp + j] = p;
          if (p_row != nullptr && j < L) p_row[j] = p;
        }
      }
      __syncwarp();
      // out rows = P V, lanes along D; P read 4 keys at a time (zeros past each row's keys).
      const int jn = round4(n_max);
      for (int d0 = 0; d0 < D; d0 += 32) {
        const int d = min(d0 + lane, D - 1);  // lanes past D compute a copy and store nothing
        float acc[kRows] = {};
        for (int j4 = 0; j4 < jn; j4 += 4) {
          const float4 v = make_float4(v_s[j4 * D + d], v_s[(j4 + 1) * D + d], v_s[(j4 + 2) * D + d],
                                       v_s[(j4 + 3) * D + d]);
          for (int r = 0; r < kRows; ++r) acc[r] = dot4(*reinterpret_cast<const float4*>(p_w + r * Lp + j4), v, acc[r]);
        }
        if (d0 + lane < D)
          for (int r = 0; r < kRows; ++r)  // a fixed trip count keeps acc in registers
            if (r < rows) out[(b * L + i0 + r) * HD + int64_t{h} * D + d] = acc[r];
      }
      __syncwarp();  // q_w and p_w are rewritten for the next pass
    }
  }
}

template <bool kWorkspace>
__global__ void attention_backward_kernel(float* __restrict__ dqkv, const float* __restrict__ dout,
                                          const float* __restrict__ qkv, const float* __restrict__ probs, int64_t BH,
                                          int L, int H, int D, bool causal, float scale, float* workspace,
                                          int64_t block_floats) {
  extern __shared__ float smem[];
  float* buf = kWorkspace ? workspace + blockIdx.x * block_floats : smem;
  const int ks = odd_stride(D);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  float* k_s = buf;                // (L, ks); phase 2: Q (L, D)
  float* v_s = k_s + L * ks;       // (L, ks); phase 2: dO (L, D)
  float* ds_s = v_s + L * ks;      // (L, L) dP, then dS
  float* do_w = ds_s + L * L + warp * D;  // (D) this warp's dO row
  float* q_s = k_s;
  float* do_s = v_s;
  const int64_t HD = int64_t{H} * D, R = 3 * HD;

  for (int64_t bh = blockIdx.x; bh < BH; bh += gridDim.x) {
    const int64_t b = bh / H;
    const int h = static_cast<int>(bh % H);
    const float* head = qkv + b * L * R + int64_t{h} * D;
    const float* dout_head = dout + b * L * HD + int64_t{h} * D;
    float* dhead = dqkv + b * L * R + int64_t{h} * D;
    const float* p_head = probs + bh * L * L;  // (L, L)
    __syncthreads();  // the previous head's phase 2 is done with Q, dO and dS
    for (int idx = threadIdx.x; idx < L * D; idx += blockDim.x) {
      const int j = idx / D, d = idx % D;
      const float* row = head + int64_t{j} * R;
      k_s[j * ks + d] = row[HD + d];
      v_s[j * ks + d] = row[2 * HD + d];
    }
    __syncthreads();

    // Phase 1: query rows.
    for (int i = warp; i < L; i += warps) {
      const float* do_row = dout_head + int64_t{i} * HD;
      for (int d = lane; d < D; d += 32) do_w[d] = do_row[d];
      __syncwarp();
      const int n = causal ? i + 1 : L;
      const float* p_row = p_head + int64_t{i} * L;
      float* ds_row = ds_s + i * L;
      float dot = 0.0f;
      for (int j = lane; j < n; j += 32) {
        const float dp = strided_dot(do_w, 1, v_s + j * ks, 1, D);
        ds_row[j] = dp;
        dot += p_row[j] * dp;
      }
      dot = warp_sum(dot);
      for (int j = lane; j < L; j += 32) ds_row[j] = j < n ? p_row[j] * (ds_row[j] - dot) : 0.0f;
      __syncwarp();
      float* dq_row = dhead + int64_t{i} * R;
      for (int d = lane; d < D; d += 32) dq_row[d] = strided_dot(ds_row, 1, k_s + d, ks, n) * scale;
      __syncwarp();  // do_w is rewritten for the next row
    }
    __syncthreads();  // every dS row is written; K and V are no longer read

    for (int idx = threadIdx.x; idx < L * D; idx += blockDim.x) {
      const int i = idx / D, d = idx % D;
      q_s[idx] = head[int64_t{i} * R + d];
      do_s[idx] = dout_head[int64_t{i} * HD + d];
    }
    __syncthreads();

    // Phase 2: key rows. Under the causal mask only queries i >= j see the key j.
    for (int j = warp; j < L; j += warps) {
      const int i0 = causal ? j : 0;
      float* dk_row = dhead + int64_t{j} * R + HD;
      float* dv_row = dk_row + HD;
      for (int d = lane; d < D; d += 32) {
        dk_row[d] = strided_dot(ds_s + i0 * L + j, L, q_s + i0 * D + d, D, L - i0) * scale;
        dv_row[d] = strided_dot(p_head + int64_t{i0} * L + j, L, do_s + i0 * D + d, D, L - i0);
      }
    }
  }
}

// The device's opt-in shared memory per block (device 0: the backend's one device).
int64_t max_shared_bytes() {
  static int64_t bytes = [] {
    int device = 0, value = 0;
    POSAPL_CUDA_CHECK(cudaGetDevice(&device));
    POSAPL_CUDA_CHECK(cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    return static_cast<int64_t>(value);
  }();
  return bytes;
}

struct Launch {
  unsigned blocks;
  int threads;
  size_t shared_bytes;  // 0 when the tiles are in the workspace
  float* workspace;     // null when the tiles are in shared memory
  int64_t block_floats;
};

// Sizes the launch of `kernel` whose block needs block_floats of tiles, raising its dynamic
// shared-memory limit when the tiles need more than the default 48 KiB.
template <class Kernel>
Launch plan(Kernel kernel, int64_t BH, int64_t block_floats, int threads, int64_t& raised_to) {
  Launch launch{static_cast<unsigned>(std::min<int64_t>(BH, int64_t{1} << 20)), threads, 0, nullptr, block_floats};
  const int64_t bytes = block_floats * static_cast<int64_t>(sizeof(float));
  if (bytes <= max_shared_bytes()) {
    if (bytes > 48 * 1024 && bytes > raised_to) {
      POSAPL_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
      raised_to = bytes;
    }
    launch.shared_bytes = static_cast<size_t>(bytes);
    return launch;
  }
  // Workspace path: at most 256 MiB of tiles in flight.
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(BH, (int64_t{1} << 28) / bytes));
  launch.blocks = static_cast<unsigned>(std::min<int64_t>(blocks, 1024));
  launch.workspace = static_cast<float*>(scratch(ScratchSlot::Op, static_cast<size_t>(bytes) * launch.blocks));
  return launch;
}

// Shapes whose tile indices would not fit the kernels' 32-bit arithmetic.
void check_shape(const char* op, int64_t B, int64_t L, int64_t H, int64_t D) {
  const int64_t limit = int64_t{1} << 30;
  if (B < 0 || L < 0 || H < 0 || D < 0 || L * L >= limit || L * (D + 1) >= limit || H >= limit)
    throw BackendError("POSAPL_SHAPE", std::string("posapl: CUDA ") + op + ": unsupported shape B=" +
                                           std::to_string(B) + " L=" + std::to_string(L) + " H=" +
                                           std::to_string(H) + " D=" + std::to_string(D));
}

// One warp per pass of rows, at most kMaxWarps.
int threads_for(int64_t passes) { return 32 * static_cast<int>(std::clamp<int64_t>(passes, 1, kMaxWarps)); }

}  // namespace

void attention_forward(float* out, float* probs, const float* qkv, int64_t B, int64_t L, int64_t H, int64_t D,
                       bool causal) {
  check_shape("attention_forward", B, L, H, D);
  const int64_t BH = B * H;
  if (BH == 0 || L == 0 || D == 0) return;
  static int64_t raised_to = 0;
  const int threads = threads_for((L + kRows - 1) / kRows);  // a warp takes kRows query rows a pass
  const int64_t block_floats = forward_block_floats(L, D, threads / 32);
  const Launch launch = plan(attention_forward_kernel<false>, BH, block_floats, threads, raised_to);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  auto kernel = launch.workspace != nullptr ? attention_forward_kernel<true> : attention_forward_kernel<false>;
  kernel<<<launch.blocks, launch.threads, launch.shared_bytes, stream()>>>(
      out, probs, qkv, BH, static_cast<int>(L), static_cast<int>(H), static_cast<int>(D), causal, scale,
      launch.workspace, launch.block_floats);
  POSAPL_CUDA_LAUNCHED("attention_forward_kernel");
}

void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* probs, int64_t B, int64_t L,
                        int64_t H, int64_t D, bool causal) {
  check_shape("attention_backward", B, L, H, D);
  if (probs == nullptr)
    throw BackendError("POSAPL_ARGS", "posapl: CUDA attention_backward: probs is null (the forward's softmax)");
  const int64_t BH = B * H;
  if (BH == 0 || L == 0 || D == 0) return;
  static int64_t raised_to = 0;
  const int threads = threads_for(L);
  const int64_t block_floats = 2 * L * odd_stride(static_cast<int>(D)) + L * L + (threads / 32) * D;
  const Launch launch = plan(attention_backward_kernel<false>, BH, block_floats, threads, raised_to);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  auto kernel = launch.workspace != nullptr ? attention_backward_kernel<true> : attention_backward_kernel<false>;
  kernel<<<launch.blocks, launch.threads, launch.shared_bytes, stream()>>>(
      dqkv, dout, qkv, probs, BH, static_cast<int>(L), static_cast<int>(H), static_cast<int>(D), causal, scale,
      launch.workspace, launch.block_floats);
  POSAPL_CUDA_LAUNCHED("attention_backward_kernel");
}

}  // namespace posapl::cuda
