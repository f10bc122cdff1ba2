// patchEmbed: the ViT stem (conv1 + class token + positional table).
#include "args.h"
#include "posapl/backend.h"
#include "posapl/patch_embed.h"
#include "registry.h"

namespace posapl::binding {

// (out, pixels, weight, classEmbedding, positional, n, imageSize, patchSize, width)
static Napi::Value PatchEmbed(const Napi::CallbackInfo& info) {
  Args args(info, "patchEmbed");
  const int64_t N = args.dim("n"), S = args.dim("imageSize"), P = args.dim("patchSize"),
                C = args.dim("width");
  if (S % P != 0)
    args.fail("POSAPL_SHAPE", "Expected patchSize to divide imageSize but received " + std::to_string(P) +
                                  " and " + std::to_string(S));
  const int64_t T = 1 + (S / P) * (S / P);
  float* out = args.f32_out("out", args.size({N, T, C}, "out"));
  const float* pixels = args.f32_in("pixels", args.size({N, 3, S, S}, "pixels"));
  const float* weight = args.f32_in("weight", args.size({C, 3, P, P}, "weight"));
  const float* cls = args.f32_in("classEmbedding", C);
  const float* pos = args.f32_in("positional", args.size({T, C}, "positional"));
  args.finish();
  active_backend().patch_embed_forward(out, pixels, weight, cls, pos, N, S, P, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("patchEmbed", PatchEmbed);

}  // namespace posapl::binding
