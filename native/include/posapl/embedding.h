// Token-embedding gather, as nn.Embedding (frozen: no backward) plus an optional positional table:
//   out[n,l,:] = table[ids[n,l], :] (+ positional[l, :])
#pragma once

#include <cstdint>

namespace posapl {

// out (N,L,C); ids (N,L), each in [0, vocab) (see embedding_first_invalid_id); table (vocab,C);
// positional (L,C) or null.
void embedding_forward(float* out, const int32_t* ids, const float* table, const float* positional, int64_t N,
                       int64_t L, int64_t C);

// The index of the first of ids (count) outside [0, vocab), or -1 when every id is valid.
int64_t embedding_first_invalid_id(const int32_t* ids, int64_t count, int64_t vocab);

}  // namespace posapl
