// adamw: one HuggingFace-AdamW step in place over many tensors.
#include <string>
#include <vector>

#include "args.h"
#include "posapl/backend.h"
#include "posapl/adamw.h"
#include "registry.h"

namespace posapl::binding {

// (params[], grads[], expAvg[], expAvgSq[], lr, beta1, beta2, eps, weightDecay, step)
//   each list holds one Float32Array per tensor; entry k of every list has params[k]'s length.
static Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Args args(info, "adamw");
  std::vector<int64_t> sizes;  // filled from params, then enforced on the other lists
  std::vector<float*> params = args.f32_list_out("params", &sizes);
  // Gradients are only read, but reading them as a list marks them for the overlap check too,
  // which is what we want: a gradient sharing memory with a parameter or moment is a bug.
  std::vector<float*> grads = args.f32_list_out("grads", &sizes);
  std::vector<float*> exp_avg = args.f32_list_out("expAvg", &sizes);
  std::vector<float*> exp_avg_sq = args.f32_list_out("expAvgSq", &sizes);
  if (grads.size() != params.size() || exp_avg.size() != params.size() || exp_avg_sq.size() != params.size())
    args.fail("POSAPL_SHAPE", "Expected params, grads, expAvg and expAvgSq to hold equally many arrays but received " +
                                  std::to_string(params.size()) + ", " + std::to_string(grads.size()) + ", " +
                                  std::to_string(exp_avg.size()) + " and " + std::to_string(exp_avg_sq.size()));
  AdamWOptions options;
  options.lr = args.number("lr");
  options.beta1 = args.number("beta1");
  options.beta2 = args.number("beta2");
  options.eps = args.number("eps");
  options.weight_decay = args.number("weightDecay");
  options.step = args.integer("step", 1, 2147483647LL);
  // The same ranges transformers' AdamW accepts (it does not check weight decay; we refuse < 0).
  const auto check = [&](bool ok, const char* what, const char* name, double value) {
    if (!ok)
      args.fail("POSAPL_SHAPE", std::string("Expected ") + what + " for " + name + " but received " +
                                    std::to_string(value) + " of type number");
  };
  check(options.lr >= 0.0, "number >= 0", "lr", options.lr);
  check(options.beta1 >= 0.0 && options.beta1 < 1.0, "number in [0, 1)", "beta1", options.beta1);
  check(options.beta2 >= 0.0 && options.beta2 < 1.0, "number in [0, 1)", "beta2", options.beta2);
  check(options.eps >= 0.0, "number >= 0", "eps", options.eps);
  check(options.weight_decay >= 0.0, "number >= 0", "weightDecay", options.weight_decay);
  args.finish();
  std::vector<const float*> grads_in(grads.begin(), grads.end());
  active_backend().adamw_update(params.data(), exp_avg.data(), exp_avg_sq.data(), grads_in.data(), sizes.data(),
               static_cast<int64_t>(params.size()), options);
  return info.Env().Undefined();
}
POSAPL_EXPORT("adamw", AdamW);

}  // namespace posapl::binding
