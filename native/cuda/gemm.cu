// gemm and bias_grad on the device: the product through cuBLAS (loaded with dlopen, so that the
// addon never links against CUDA libraries), then one small epilogue kernel for bias, activation
// and `pre` (posapl/gemm.h has the contract).
//
// Row-major C(M,N) with leading dimension ldc is the column-major matrix C^T (N,M) with the same
// leading dimension, and C^T = op(B)^T op(A)^T. So cuBLAS computes C^T with the operands swapped:
//   first operand  B: stored row-major as (K,N) (no trans_b), i.e. column-major (N,K) = op(B)^T,
//                     so CUBLAS_OP_N; with trans_b it is stored (N,K), column-major (K,N) =
//                     op(B), so CUBLAS_OP_T. Its leading dimension is ldb either way.
//   second operand A: likewise CUBLAS_OP_N without trans_a, CUBLAS_OP_T with it; ld lda.
//   m = N, n = M, k = K, ldc = ldc.
#include <dlfcn.h>

#include <climits>
#include <mutex>
#include <string>

#include "cuda_common.cuh"
#include "cuda_ops.h"

namespace posapl::cuda {

namespace {

// ---- The part of cuBLAS we use, declared here (no cuBLAS headers on the build machines).
// Checked against cublas_api.h of cuBLAS 13.0.0.19 (CUDA 13.0 toolkit include/, read from the
// GitHub mirror leomaxwell972/CU13ToolKit_Includes, include/cublas_api.h):
//   cublasStatus_t: CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_ALLOC_FAILED = 3 (a C enum, int)
//   cublasOperation_t: CUBLAS_OP_N = 0, CUBLAS_OP_T = 1
//   cublasGemmAlgo_t: CUBLAS_GEMM_DEFAULT = -1
//   cublasMath_t: CUBLAS_DEFAULT_MATH = 0
//   cublasComputeType_t: CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77
//   typedef struct cublasContext* cublasHandle_t;
//   cublasCreate_v2(cublasHandle_t*), cublasSetStream_v2(cublasHandle_t, cudaStream_t),
//   cublasSetWorkspace_v2(cublasHandle_t, void*, size_t), cublasSetMathMode(cublasHandle_t,
//   cublasMath_t), cublasGetStatusString(cublasStatus_t) -> const char*,
//   cublasGemmEx(handle, transa, transb, int m, int n, int k, const void* alpha, const void* A,
//                cudaDataType Atype, int lda, const void* B, cudaDataType Btype, int ldb,
//                const void* beta, void* C, cudaDataType Ctype, int ldc,
//                cublasComputeType_t computeType, cublasGemmAlgo_t algo)
// (the same values appear in NVIDIA's nvmath-python bindings and cuda-python's cublas.pxd).
// cudaDataType / CUDA_R_32F = 0 come from the toolkit's library_types.h.
struct cublasContext;
using cublasHandle_t = cublasContext*;
using cublasStatus_t = int;
constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr cublasStatus_t CUBLAS_STATUS_ALLOC_FAILED = 3;
constexpr int CUBLAS_OP_N = 0;
constexpr int CUBLAS_OP_T = 1;
constexpr int CUBLAS_GEMM_DEFAULT = -1;
constexpr int CUBLAS_DEFAULT_MATH = 0;
constexpr int CUBLAS_COMPUTE_32F = 68;
constexpr int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;

using CreateFn = cublasStatus_t (*)(cublasHandle_t*);
using SetStreamFn = cublasStatus_t (*)(cublasHandle_t, cudaStream_t);
using SetWorkspaceFn = cublasStatus_t (*)(cublasHandle_t, void*, size_t);
using SetMathModeFn = cublasStatus_t (*)(cublasHandle_t, int);
using StatusStringFn = const char* (*)(cublasStatus_t);
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, int, int, int, int, int, const void*, const void*, cudaDataType,
                                    int, const void*, cudaDataType, int, const void*, void*, cudaDataType, int, int,
                                    int);

// cuBLAS's recommended workspace on Hopper (cublasSetWorkspace in the cuBLAS guide). Set
// explicitly so that a captured CUDA graph never makes cuBLAS allocate one per capture.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

struct Cublas {
  void* library = nullptr;
  GemmExFn gemm_ex = nullptr;
  StatusStringFn status_string = nullptr;  // optional: only for messages
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
};

std::string status_text(const Cublas& lib, cublasStatus_t status) {
  std::string text = "status " + std::to_string(status);
  if (lib.status_string != nullptr) text += std::string(" (") + lib.status_string(status) + ")";
  return text;
}

void check_cublas(const Cublas& lib, cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw BackendError(status == CUBLAS_STATUS_ALLOC_FAILED ? "POSAPL_OOM" : "POSAPL_CUDA",
                     std::string("posapl: cuBLAS: ") + what + ": " + status_text(lib, status));
}

void* open_cublas() {
  // The soname of cuBLAS 13 first; the unversioned development link and the toolkit's default
  // location for hosts whose loader path lacks it.
  const char* const names[] = {"libcublas.so.13", "libcublas.so", "/usr/local/cuda/lib64/libcublas.so.13"};
  std::string errors;
  for (const char* name : names) {
    if (void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return lib;
    const char* e = dlerror();
    errors += std::string("; ") + (e != nullptr ? e : name);
  }
  throw BackendError("POSAPL_NO_CUDA", "posapl: cuBLAS library libcublas.so.13 not found" + errors);
}

template <typename Fn>
Fn symbol(void* lib, const char* name) {
  dlerror();
  void* p = dlsym(lib, name);
  if (p == nullptr) {
    const char* e = dlerror();
    throw BackendError("POSAPL_NO_CUDA", std::string("posapl: cuBLAS symbol ") + name + " not found in libcublas.so.13: " +
                                             (e != nullptr ? e : "null"));
  }
  return reinterpret_cast<Fn>(p);
}

// The library, its one handle on the backend stream and the handle's workspace, made once.
// A failure throws out of call_once, so a later call tries again.
const Cublas& cublas() {
  static Cublas lib;
  static std::once_flag once;
  std::call_once(once, [] {
    Cublas made;
    made.library = open_cublas();
    const auto create = symbol<CreateFn>(made.library, "cublasCreate_v2");
    const auto set_stream = symbol<SetStreamFn>(made.library, "cublasSetStream_v2");
    const auto set_workspace = symbol<SetWorkspaceFn>(made.library, "cublasSetWorkspace_v2");
    const auto set_math = symbol<SetMathModeFn>(made.library, "cublasSetMathMode");
    made.gemm_ex = symbol<GemmExFn>(made.library, "cublasGemmEx");
    made.status_string = reinterpret_cast<StatusStringFn>(dlsym(made.library, "cublasGetStatusString"));
    cudaStream_t s = stream();  // sets the device first: the handle belongs to the current one
    check_cublas(made, create(&made.handle), "cublasCreate_v2");
    // The stream first: cublasSetStream resets the workspace to cuBLAS's own pool.
    check_cublas(made, set_stream(made.handle, s), "cublasSetStream_v2");
    POSAPL_CUDA_CHECK(cudaMalloc(&made.workspace, kWorkspaceBytes));
    check_cublas(made, set_workspace(made.handle, made.workspace, kWorkspaceBytes), "cublasSetWorkspace_v2");
    // Precision is chosen per call by the compute type; the handle's mode adds nothing.
    check_cublas(made, set_math(made.handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    lib = made;
  });
  return lib;
}

int as_int(int64_t v, const char* name) {
  if (v < 0 || v > INT_MAX)
    throw BackendError("POSAPL_SHAPE", std::string("posapl: CUDA gemm: ") + name + " = " + std::to_string(v) +
                                           " does not fit cuBLAS's int");
  return static_cast<int>(v);
}

__device__ __forceinline__ float activate_device(Activation act, float x) {
  switch (act) {
    case Activation::Relu: return x > 0.0f ? x : 0.0f;
    case Activation::Gelu: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default: return x;
  }
}

// C = act(v + bias), pre = v + bias, where v is cuBLAS's result, or with k_zero (no products)
// beta C as the CPU computes it (C is not read when beta is 0). Rows run over y and columns over
// x, both grid-stride: threads of a warp touch neighbouring columns, and no index is divided.
__global__ void epilogue_kernel(float* C, int64_t ldc, float* pre, const float* bias, Activation act, int64_t M,
                                int64_t N, bool k_zero, float beta) {
  for (int64_t m = blockIdx.y; m < M; m += gridDim.y) {
    float* c_row = C + m * ldc;
    float* pre_row = pre != nullptr ? pre + m * ldc : nullptr;
    for (int64_t n = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; n < N;
         n += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      float v = k_zero ? (beta != 0.0f ? beta * c_row[n] : 0.0f) : c_row[n];
      if (bias != nullptr) v += bias[n];
      if (pre_row != nullptr) pre_row[n] = v;
      c_row[n] = activate_device(act, v);
    }
  }
}

// Column sums of x (M,N) over one chunk of rows per blockIdx.y: a block is 32 columns x 8 row
// lanes, reduced through shared memory. out row blockIdx.y gets the chunk's sums; with
// `accumulate` (used only when there is a single chunk) they are added to out.
constexpr int kColumns = 32, kRowLanes = 8;

__global__ void column_sums_kernel(float* out, const float* x, int64_t M, int64_t N, int64_t rows_per_chunk,
                                   bool accumulate) {
  __shared__ float partial[kRowLanes][kColumns];
  const int64_t n = blockIdx.x * static_cast<int64_t>(kColumns) + threadIdx.x;
  const int64_t r0 = blockIdx.y * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < M ? r0 + rows_per_chunk : M;
  float sum = 0.0f;
  if (n < N)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kRowLanes) sum += x[r * N + n];
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && n < N) {
    float total = 0.0f;
    for (int j = 0; j < kRowLanes; ++j) total += partial[j][threadIdx.x];
    float* o = out + blockIdx.y * N + n;
    *o = accumulate ? *o + total : total;
  }
}

// db (N) (+)= sum over the `chunks` rows of partial (chunks,N), in order.
__global__ void sum_chunks_kernel(float* db, const float* partial, int64_t chunks, int64_t N, bool accumulate) {
  for (int64_t n = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; n < N;
       n += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float total = accumulate ? db[n] : 0.0f;
    for (int64_t c = 0; c < chunks; ++c) total += partial[c * N + n];
    db[n] = total;
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, Activation act,
          float* pre) {
  if (M <= 0 || N <= 0) return;  // as the CPU: nothing to write
  const bool k_zero = K <= 0;
  const bool epilogue = k_zero || bias != nullptr || act != Activation::None || pre != nullptr;
  if (!k_zero) {
    const int m = as_int(N, "N"), n = as_int(M, "M"), k = as_int(K, "K");
    cublas_gemm_ex(trans_b, trans_a, m, n, k, alpha, B, CUDA_R_32F, as_int(ldb, "ldb"), A, CUDA_R_32F, as_int(lda, "lda"),
                   beta, C, as_int(ldc, "ldc"), math_mode() == MathMode::Tf32);
  }
  if (!epilogue) return;
  // Blocks of 128 columns (a ViT row of 768 is 6 of them), one row each, rows capped at gridDim.y's limit.
  constexpr int threads = 128;
  const dim3 grid(grid_for(N, threads), static_cast<unsigned>(M < 65535 ? M : 65535));
  epilogue_kernel<<<grid, threads, 0, stream()>>>(C, ldc, pre, bias, act, M, N, k_zero, beta);
  POSAPL_CUDA_LAUNCHED("gemm epilogue_kernel");
}

int cublas_int(int64_t v, const char* name) { return as_int(v, name); }

void cublas_gemm_ex(bool trans_first, bool trans_second, int m, int n, int k, float alpha, const void* first,
                    cudaDataType first_type, int ld_first, const void* second, cudaDataType second_type, int ld_second,
                    float beta, void* C, int ldc, bool tf32) {
  const Cublas& lib = cublas();
  // fp32 operands: exact fp32 or TF32; bf16 operands: fp32 accumulation (COMPUTE_32F).
  const int compute = tf32 && first_type == CUDA_R_32F ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  // alpha and beta are read from host memory (the handle's default pointer mode) at the call.
  check_cublas(lib,
               lib.gemm_ex(lib.handle, trans_first ? CUBLAS_OP_T : CUBLAS_OP_N, trans_second ? CUBLAS_OP_T : CUBLAS_OP_N,
                           m, n, k, &alpha, first, first_type, ld_first, second, second_type, ld_second, &beta, C,
                           CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

void bias_grad(float* db, const float* dY, int64_t M, int64_t N, bool accumulate) {
  if (N <= 0) return;
  if (M <= 0) {
    // No rows: the sums are zero (or db is left as it is when accumulating), as on the CPU.
    if (!accumulate) POSAPL_CUDA_CHECK(cudaMemsetAsync(db, 0, static_cast<size_t>(N) * sizeof(float), stream()));
    return;
  }
  // Chunks of at least 256 rows (each thread then sums 32 of them), at most 1024 chunks so that
  // the second pass stays short and gridDim.y stays far below its limit of 65535.
  int64_t rows_per_chunk = (M + 1023) / 1024;
  if (rows_per_chunk < 256) rows_per_chunk = 256;
  const int64_t chunks = (M + rows_per_chunk - 1) / rows_per_chunk;
  const dim3 block(kColumns, kRowLanes);
  const dim3 grid(static_cast<unsigned>((N + kColumns - 1) / kColumns), static_cast<unsigned>(chunks));
  if (chunks == 1) {
    column_sums_kernel<<<grid, block, 0, stream()>>>(db, dY, M, N, rows_per_chunk, accumulate);
    POSAPL_CUDA_LAUNCHED("bias_grad column_sums_kernel");
    return;
  }
  // Two passes, no atomics: the result is the same on every run.
  float* partial = static_cast<float*>(scratch(ScratchSlot::Gemm, static_cast<size_t>(chunks * N) * sizeof(float)));
  column_sums_kernel<<<grid, block, 0, stream()>>>(partial, dY, M, N, rows_per_chunk, false);
  POSAPL_CUDA_LAUNCHED("bias_grad column_sums_kernel");
  constexpr int threads = 256;
  sum_chunks_kernel<<<grid_for(N, threads), threads, 0, stream()>>>(db, partial, chunks, N, accumulate);
  POSAPL_CUDA_LAUNCHED("bias_grad sum_chunks_kernel");
}

}  // namespace posapl::cuda
