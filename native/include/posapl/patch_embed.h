// The ViT stem: conv1 (no bias, kernel = stride = P) over the image, the class token prepended,
// the positional table added. The stem is frozen and its input is pixels, so no backward.
//   out[n,0,:]   = class_embedding + positional[0]
//   out[n,1+p,:] = conv1(pixels[n])[:, p] + positional[1+p]      p = gy*G + gx, G = S/P
#pragma once

#include <cstdint>

namespace posapl {

// out (N,1+G*G,C); pixels (N,3,S,S); weight (C,3,P,P) as torch's conv1.weight; class_embedding (C);
// positional (1+G*G,C). S must be a multiple of P.
void patch_embed_forward(float* out, const float* pixels, const float* weight, const float* class_embedding,
                         const float* positional, int64_t N, int64_t S, int64_t P, int64_t C);

}  // namespace posapl
