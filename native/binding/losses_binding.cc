// retrievalLosses: the contrastive and power-scaled triplet losses with their embedding gradients.
#include <string>

#include "args.h"
#include "posapl/backend.h"
#include "posapl/losses.h"
#include "registry.h"

namespace posapl::binding {

// (dImage|null, dText|null, image, text, imageIds, n, e, logitScale, margin, gamma,
//  contrastiveWeight, tripletWeight) -> { contrastive, triplet }
//   dImage, dText, image, text (N,E); imageIds (N) Int32Array
static Napi::Value RetrievalLosses(const Napi::CallbackInfo& info) {
  Args args(info, "retrievalLosses");
  // The op holds two (N,N) float matrices: 2^15 pairs make 4 GiB each, far past any batch.
  const int64_t N = args.integer("n", 1, int64_t{1} << 15), E = args.dim("e");
  RetrievalLossOptions options;
  options.logit_scale = static_cast<float>(args.number("logitScale"));
  options.margin = static_cast<float>(args.number("margin"));
  const double gamma = args.number("gamma");
  if (!(gamma > 0.0))
    args.fail("POSAPL_SHAPE", "Expected number > 0 for gamma but received " + std::to_string(gamma) + " of type number");
  options.gamma = static_cast<float>(gamma);
  options.contrastive_weight = static_cast<float>(args.number("contrastiveWeight"));
  options.triplet_weight = static_cast<float>(args.number("tripletWeight"));
  const int64_t NE = args.size({N, E}, "image");
  float* dI = args.f32_out_or_null("dImage", NE);
  float* dT = args.f32_out_or_null("dText", NE);
  const float* I = args.f32_in("image", NE);
  const float* T = args.f32_in("text", NE);
  const int32_t* ids = args.i32_in("imageIds", N);
  args.finish();
  const RetrievalLossValues values = active_backend().retrieval_losses(dI, dT, I, T, ids, N, E, options);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("contrastive", Napi::Number::New(info.Env(), values.contrastive));
  out.Set("triplet", Napi::Number::New(info.Env(), values.triplet));
  return out;
}
POSAPL_EXPORT("retrievalLosses", RetrievalLosses);

}  // namespace posapl::binding
