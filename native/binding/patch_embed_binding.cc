// patchEmbed: the ViT stem (conv1 + class token + positional table).
#include "args.h"
#include "posapl/patch_embed.h"
#include "registry.h"

namespace posapl::binding {

// (out, pixels, weight, classEmbedding, positional, n, imageSize, patchSize, width)
static Napi::Value PatchEmbed(const Napi::CallbackInfo& info) {
  Args args(info, "patchEmbed", 9);
  const int64_t N = args.dim(5, "n"), S = args.dim(6, "imageSize"), P = args.dim(7, "patchSize"),
                C = args.dim(8, "width");
  if (S % P != 0)
    args.fail("POSAPL_SHAPE", "Expected patchSize to divide imageSize but received " + std::to_string(P) +
                                  " and " + std::to_string(S));
  const int64_t T = 1 + (S / P) * (S / P);
  float* out = args.f32_out(0, "out", args.size({N, T, C}, "out"));
  const float* pixels = args.f32_in(1, "pixels", args.size({N, 3, S, S}, "pixels"));
  const float* weight = args.f32_in(2, "weight", args.size({C, 3, P, P}, "weight"));
  const float* cls = args.f32_in(3, "classEmbedding", C);
  const float* pos = args.f32_in(4, "positional", args.size({T, C}, "positional"));
  args.finish();
  patch_embed_forward(out, pixels, weight, cls, pos, N, S, P, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("patchEmbed", PatchEmbed);

}  // namespace posapl::binding
