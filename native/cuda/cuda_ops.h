// The CUDA backend's ops. Each has the signature and the contract of the CPU function of the same
// name in posapl/<op>.h (read that header and native/cpu/<op>.cc for what is computed), except
// that every pointer is device memory. Every op is enqueued on the backend's one stream
// (posapl::cuda::stream()) and returns without waiting, unless it must hand a value back to the
// host (retrieval_losses). Errors are thrown as posapl::BackendError (cuda_common.cuh).
// This header has no CUDA types, so the C++ bindings can include it.
#pragma once

#include <cstdint>

#include "posapl/activations.h"
#include "posapl/adamw.h"
#include "posapl/gemm_bf16.h"
#include "posapl/losses.h"

namespace posapl::cuda {

// gemm.cu: cuBLAS (loaded with dlopen) plus an epilogue kernel for bias, activation and `pre`.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const float* bias, Activation act,
          float* pre);
void bias_grad(float* db, const float* dY, int64_t M, int64_t N, bool accumulate);
// gemm_bf16.cu: the frozen backbone's bf16 products (packed op(B) in bf16, fp32 accumulation).
void bf16_pack(uint16_t* packed, const float* B, int64_t K, int64_t N, bool trans);
void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const uint16_t* packed, float* C,
               int64_t ldc, const Bf16Epilogue& ep);
// elementwise.cu
void activation_backward(Activation act, float* dx, const float* dy, const float* pre, int64_t n);
void axpy(float* y, const float* x, float alpha, int64_t n);
void add(float* out, const float* a, const float* b, int64_t n);
// attention.cu
void attention_forward(float* out, float* probs, const float* qkv, int64_t B, int64_t L, int64_t H, int64_t D,
                       bool causal);
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* probs, int64_t B, int64_t L,
                        int64_t H, int64_t D, bool causal);
// embedding.cu
void embedding_forward(float* out, const int32_t* ids, const float* table, const float* positional, int64_t N,
                       int64_t L, int64_t C);
// layernorm.cu
void layernorm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight, const float* bias,
                       int64_t N, int64_t C);
void layernorm_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C);
// l2norm.cu
void l2norm_forward(float* out, const float* x, int64_t N, int64_t C);
void l2norm_backward(float* dx, const float* dout, const float* x, int64_t N, int64_t C);
// token_mean.cu
void token_mean_forward(float* out, const float* x, int64_t B, int64_t L, int64_t C);
void token_mean_backward(float* dx, const float* dout, int64_t B, int64_t L, int64_t C);
void broadcast_add_forward(float* out, const float* x, const float* s, int64_t B, int64_t L, int64_t C);
void broadcast_add_backward(float* ds, const float* dout, int64_t B, int64_t L, int64_t C);
// mlp_adapter.cu
void mlp_adapter_forward(float* out, float* saved, const float* x, const float* w1, const float* b1, const float* w2,
                         const float* b2, int64_t rows, int64_t C, int64_t R, int64_t Cout);
void mlp_adapter_backward(float* dx, float* dw1, float* db1, float* dw2, float* db2, float* scratch,
                          const float* dout, const float* x, const float* w1, const float* w2, const float* saved,
                          int64_t rows, int64_t C, int64_t R, int64_t Cout);
// sa_adapter.cu
void sa_adapter_forward(float* out, float* saved, const float* m, const float* wd, const float* bd, const float* win,
                        const float* bin, const float* wo, const float* bo, const float* wu, const float* bu,
                        int64_t N, int64_t L, int64_t C, int64_t R, int64_t H);
void sa_adapter_backward(float* dm, float* dwd, float* dbd, float* dwin, float* dbin, float* dwo, float* dbo,
                         float* dwu, float* dbu, float* scratch, const float* dout, const float* m, const float* wd,
                         const float* win, const float* wo, const float* wu, const float* saved, int64_t N,
                         int64_t L, int64_t C, int64_t R, int64_t H);
// side_fusion.cu
void side_fusion_forward(float* s4, float* saved, const float* f1, const float* f2, const float* f3, const float* f4,
                         const float* w1, const float* b1, const float* w2, const float* b2, const float* w3,
                         const float* b3, const float* w4, const float* b4, int64_t N, int64_t L, int64_t C,
                         bool chained, bool mean);
void side_fusion_backward(float* df1, float* df2, float* df3, float* df4, float* dw1, float* db1, float* dw2,
                          float* db2, float* dw3, float* db3, float* dw4, float* db4, float* scratch,
                          const float* ds4, const float* f1, const float* f2, const float* f3, const float* w1,
                          const float* w2, const float* w3, const float* w4, const float* saved, int64_t N,
                          int64_t L, int64_t C, bool chained, bool mean);
// losses.cu: waits for the stream (the two values come back to the host).
RetrievalLossValues retrieval_losses(float* dI, float* dT, const float* I, const float* T, const int32_t* ids,
                                     int64_t N, int64_t E, const RetrievalLossOptions& options);
// adamw.cu: params, exp_avg, exp_avg_sq, grads are host arrays of `count` device pointers; one launch.
void adamw_update(float* const* params, float* const* exp_avg, float* const* exp_avg_sq, const float* const* grads,
                  const int64_t* sizes, int64_t count, const AdamWOptions& options);
// patch_embed.cu
void patch_embed_forward(float* out, const float* pixels, const float* weight, const float* class_embedding,
                         const float* positional, int64_t N, int64_t S, int64_t P, int64_t C);

// rows.cu: the text tower's EOT row moves and plain memory ops (the CPU backend does these in
// TypeScript). ids, index: int32 device arrays.
void argmax_rows(int32_t* out, const int32_t* ids, int64_t n, int64_t l);
void gather_rows(float* out, const float* x, const int32_t* index, int64_t n, int64_t l, int64_t c);
void scatter_rows(float* dx, const float* rows, const int32_t* index, int64_t n, int64_t l, int64_t c, bool accumulate);
void fill_u32(uint32_t* dst, uint32_t bits, int64_t n);

}  // namespace posapl::cuda

namespace posapl::cuda {
// rows.cu: the embedding binding's id check (waits for the stream: the answer comes to the host).
int64_t embedding_first_invalid_id(const int32_t* ids, int64_t count, int64_t vocab);
}  // namespace posapl::cuda
