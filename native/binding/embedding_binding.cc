// embeddingForward.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/embedding.h"
#include "registry.h"

namespace posapl::binding {

// (out, ids, table, positional|null, n, l, c, vocab)
static Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  Args args(info, "embeddingForward");
  const int64_t N = args.dim("n"), L = args.dim("l"), C = args.dim("c");
  const int64_t vocab = args.dim("vocab");
  float* out = args.f32_out("out", args.size({N, L, C}, "out"));
  const int32_t* ids = args.i32_in("ids", args.size({N, L}, "ids"));
  const float* table = args.f32_in("table", args.size({vocab, C}, "table"));
  const float* positional = args.f32_in_or_null("positional", args.size({L, C}, "positional"));
  args.finish();
  // The kernel indexes the table with the ids: every one is checked first.
  const int64_t bad = active_backend().embedding_first_invalid_id(ids, N * L, vocab);
  if (bad >= 0) {
    int32_t value = 0;
    active_backend().copy_to_host(&value, ids + bad, sizeof value);
    args.fail("POSAPL_SHAPE", "Expected ids in [0, " + std::to_string(vocab) + ") but received ids[" +
                                  std::to_string(bad) + "] = " + std::to_string(value) + " (row " +
                                  std::to_string(bad / L) + ", position " + std::to_string(bad % L) + ")");
  }
  active_backend().embedding_forward(out, ids, table, positional, N, L, C);
  return info.Env().Undefined();
}
POSAPL_EXPORT("embeddingForward", EmbeddingForward);

}  // namespace posapl::binding
