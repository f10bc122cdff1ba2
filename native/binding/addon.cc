// The addon's entry point: exports every function registered with POSAPL_EXPORT, each
// wrapped so that no C++ exception escapes as a crash.
#include <napi.h>

#include <new>
#include <string>
#include <stdexcept>

#include "args.h"
#include "posapl/backend.h"
#include "posapl/cpu_features.h"
#include "posapl/gemm_bf16.h"
#include "posapl/threadpool.h"
#include "registry.h"

namespace posapl::binding {

std::vector<Export>& exports_list() {
  static std::vector<Export> list;
  return list;
}

static Napi::Value call_guarded(const Napi::CallbackInfo& info) {
  auto method = reinterpret_cast<Method>(info.Data());
  try {
    return method(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const BackendError& e) {
    throw_error(info.Env(), e.code, e.what());
  } catch (const std::bad_alloc&) {
    throw_error(info.Env(), "POSAPL_OOM", "posapl: out of memory");
  } catch (const std::exception& e) {
    throw_error(info.Env(), "POSAPL_INTERNAL", std::string("posapl: ") + e.what());
  }
}

// addon.info(): what this binary is and how it will run.
static Napi::Value Info(const Napi::CallbackInfo& info) {
  Args::none(info, "info");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("backend", active_backend().name);
  o.Set("isa", isa_name(cpu_isa()));
  o.Set("supportedIsa", isa_name(cpu_isa_supported()));
  o.Set("threads", num_threads());
  o.Set("bf16", bf16_available());
#ifdef POSAPL_CUDA_ADDON
  o.Set("cuda", true);
#else
  o.Set("cuda", false);
#endif
  return o;
}
POSAPL_EXPORT("info", Info);

// addon.setIsa({ isa }): switches the SIMD path in process ('avx512', 'avx2' or 'scalar', capped
// at what the CPU supports); returns the path now in use. The op tests run every path this way.
static Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Args args(info, "setIsa");
  Napi::Value v = args.string("isa");
  args.finish();
  const std::string want = v.As<Napi::String>().Utf8Value();
  Isa isa;
  if (want == "avx512") isa = Isa::Avx512;
  else if (want == "avx2") isa = Isa::Avx2;
  else if (want == "scalar") isa = Isa::Scalar;
  else args.fail("POSAPL_TYPE", "Expected 'avx512', 'avx2' or 'scalar' for isa but received '" + want + "'");
  return Napi::String::New(info.Env(), isa_name(set_cpu_isa(isa)));
}
POSAPL_EXPORT("setIsa", SetIsa);

// addon.setThreads({ threads }): replaces the thread pool by one of `threads` threads (an integer
// in [1, 1024]); returns the count now in use. The op tests run 1 and several threads this way.
static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setThreads");
  const int64_t threads = args.integer("threads", 1, kMaxThreads);
  args.finish();
  return Napi::Number::New(info.Env(), set_num_threads(static_cast<int>(threads)));
}
POSAPL_EXPORT("setThreads", SetThreads);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const Export& e : exports_list())
    exports.Set(e.name, Napi::Function::New(env, call_guarded, e.name, reinterpret_cast<void*>(e.method)));
  return exports;
}

}  // namespace posapl::binding

static Napi::Object InitPosapl(Napi::Env env, Napi::Object exports) {
  return posapl::binding::Init(env, exports);
}

#ifdef POSAPL_CUDA_ADDON
NODE_API_MODULE(posapl_cuda, InitPosapl)
#else
NODE_API_MODULE(posapl, InitPosapl)
#endif
