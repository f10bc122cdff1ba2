// embeddingForward.
#include "args.h"
#include "posapl/embedding.h"
#include "registry.h"

namespace posapl::binding {

// (out, ids, table, positional|null, n, l, c, vocab)
static Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args args(info, "embeddingForward", 8);
  const int64_t N = args.dim(4, "n"), L = args.dim(5, "l"), C = args.dim(6, "c");
  const int64_t vocab = args.dim(7, "vocab");
  float* out = args.f32_out(0, "out", args.size({N, L, C}, "out"));
  const int32_t* ids = args.i32_in(1, "ids", args.size({N, L}, "ids"));
  const float* table = args.f32_in(2, "table", args.size({vocab, C}, "table"));
  const float* positional = args.f32_in_or_null(3, "positional", args.size({L, C}, "positional"));
  args.finish();
  // The kernel indexes the table with the ids: every one is checked first.
  const int64_t bad = embedding_first_invalid_id(ids, N * L, vocab);
  if (bad >= 0)
    args.fail("POSAPL_SHAPE", "Expected ids in [0, " + std::to_string(vocab) + ") but received ids[" +
                                  std::to_string(bad) + "] = " + std::to_string(ids[bad]) + " (row " +
                                  std::to_string(bad / L) + ", position " + std::to_string(bad % L) + ")");
  embedding_forward(out, ids, table, positional, N, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("embeddingForward", EmbeddingForward);

}  // namespace posapl::binding
