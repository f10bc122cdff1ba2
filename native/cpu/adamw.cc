#include "posapl/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "posapl/threadpool.h"

namespace posapl {

void adamw_update(float* const* params, float* const* exp_avg, float* const* exp_avg_sq, const float* const* grads,
                  const int64_t* sizes, int64_t count, const AdamWOptions& options) {
  // torch turns each Python-float scalar into a float32 before the element loop; so do we.
  const double t = static_cast<double>(options.step);
  const double step_size = options.lr * std::sqrt(1.0 - std::pow(options.beta2, t)) / (1.0 - std::pow(options.beta1, t));
  const float b1 = static_cast<float>(options.beta1), one_minus_b1 = static_cast<float>(1.0 - options.beta1);
  const float b2 = static_cast<float>(options.beta2), one_minus_b2 = static_cast<float>(1.0 - options.beta2);
  const float eps = static_cast<float>(options.eps);
  const float neg_step = static_cast<float>(-step_size);
  const float neg_decay = static_cast<float>(-options.lr * options.weight_decay);
  const bool decay = options.weight_decay > 0.0;

  // All tensors as one flat index space [0, total), so that threads split the work evenly
  // however unequal the tensors are. starts[k] is the first flat index of tensor k.
  std::vector<int64_t> starts(count + 1, 0);
  for (int64_t k = 0; k < count; ++k) starts[k + 1] = starts[k] + sizes[k];

  parallel_for(starts[count], 1 << 14, [&](int64_t begin, int64_t end) {
    int64_t k = std::upper_bound(starts.begin(), starts.end(), begin) - starts.begin() - 1;
    for (int64_t flat = begin; flat < end; ++k) {
      const int64_t stop = std::min(end, starts[k + 1]);
      float* p = params[k];
      float* m = exp_avg[k];
      float* v = exp_avg_sq[k];
      const float* g = grads[k];
      for (int64_t i = flat - starts[k]; i < stop - starts[k]; ++i) {
        m[i] = m[i] * b1 + one_minus_b1 * g[i];
        v[i] = v[i] * b2 + one_minus_b2 * g[i] * g[i];
        const float denom = std::sqrt(v[i]) + eps;
        p[i] = p[i] + neg_step * m[i] / denom;
        if (decay) p[i] = p[i] + neg_decay * p[i];
      }
      flat = stop;
    }
  });
}

}  // namespace posapl
