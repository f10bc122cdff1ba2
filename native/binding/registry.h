// Each binding file registers its functions with POSAPL_EXPORT; addon.cc exports them all.
// This keeps one op per binding file and no central list to edit.
#pragma once

#include <napi.h>

#include <vector>

namespace posapl::binding {

using Method = Napi::Value (*)(const Napi::CallbackInfo&);

struct Export {
  const char* name;
  Method method;
};

std::vector<Export>& exports_list();

struct Registration {
  Registration(const char* name, Method method) { exports_list().push_back({name, method}); }
};

}  // namespace posapl::binding

#define POSAPL_EXPORT_CONCAT2(a, b) a##b
#define POSAPL_EXPORT_CONCAT(a, b) POSAPL_EXPORT_CONCAT2(a, b)
// POSAPL_EXPORT("gemm", Gemm);  exports the native function Gemm as addon.gemm
#define POSAPL_EXPORT(js_name, method) \
  static ::posapl::binding::Registration POSAPL_EXPORT_CONCAT(posapl_export_, __LINE__)(js_name, method)
