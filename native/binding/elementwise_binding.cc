// axpy and add: element-wise sums between ops.
#include "args.h"
#include "posapl/backend.h"
#include "posapl/elementwise.h"
#include "registry.h"

namespace posapl::binding {

// (y, x, alpha, n): y += alpha * x
static Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args args(info, "axpy");
  const int64_t n = args.dim("n");
  const float alpha = static_cast<float>(args.number("alpha"));
  float* y = args.f32_out("y", n);
  const float* x = args.f32_in("x", n);
  args.finish();
  active_backend().axpy(y, x, alpha, n);
  return info.Env().Undefined();
}
POSAPL_EXPORT("axpy", Axpy);

// (out, a, b, n): out = a + b
static Napi::Value Add(const Napi::CallbackInfo& info) {
  Args args(info, "add");
  const int64_t n = args.dim("n");
  float* out = args.f32_out("out", n);
  const float* a = args.f32_in("a", n);
  const float* b = args.f32_in("b", n);
  args.finish();
  active_backend().add(out, a, b, n);
  return info.Env().Undefined();
}
POSAPL_EXPORT("add", Add);

}  // namespace posapl::binding
