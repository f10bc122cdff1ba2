#include "posapl/embedding.h"

#include <algorithm>

#include "posapl/threadpool.h"

namespace posapl {

void embedding_forward(float* out, const int32_t* ids, const float* table, const float* positional, int64_t N,
                       int64_t L, int64_t C) {
  parallel_for(N * L, std::max<int64_t>(1, (int64_t{1} << 14) / C), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* row = table + static_cast<int64_t>(ids[t]) * C;  // (C)
      float* o = out + t * C;                                          // (C)
      if (positional == nullptr) {
        std::copy(row, row + C, o);
      } else {
        const float* pos = positional + (t % L) * C;  // (C)
        for (int64_t c = 0; c < C; ++c) o[c] = row[c] + pos[c];
      }
    }
  });
}

int64_t embedding_first_invalid_id(const int32_t* ids, int64_t count, int64_t vocab) {
  for (int64_t t = 0; t < count; ++t)
    if (ids[t] < 0 || ids[t] >= vocab) return t;
  return -1;
}

}  // namespace posapl
