// Uint8Array arguments of the image ops. Args reads Float32Array and Int32Array only, so the
// image bindings read their pixel buffers here, with Args' message shapes and codes, and check
// every output against every other array argument (Args' own included) for shared memory.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "args.h"

namespace posapl::binding {

class ImageArgs {
 public:
  ImageArgs(const Napi::CallbackInfo& info, Args& args) : info_(info), args_(args) {}

  const uint8_t* u8_in(size_t i, const char* name, int64_t length) { return bytes(i, name, length, false); }
  uint8_t* u8_out(size_t i, const char* name, int64_t length) { return bytes(i, name, length, true); }

  // Registers an array Args has read (a float32 output, say) for the overlap check.
  void also(const char* name, const void* data, int64_t byte_length, bool output) {
    const uint8_t* begin = static_cast<const uint8_t*>(data);
    spans_.push_back({name, begin, begin + byte_length, output});
  }

  // Rejects an output that overlaps another argument; call after reading every argument.
  void finish() {
    args_.finish();
    for (const Span& x : spans_) {
      if (!x.output) continue;
      for (const Span& y : spans_) {
        if (&x == &y || x.begin == x.end || y.begin == y.end) continue;
        if (x.begin < y.end && y.begin < x.end)
          args_.fail("POSAPL_ALIAS", std::string("Expected ") + x.name + " not to share memory with " + y.name);
      }
    }
  }

 private:
  struct Span {
    const char* name;
    const uint8_t* begin;
    const uint8_t* end;
    bool output;
  };

  uint8_t* bytes(size_t i, const char* name, int64_t length, bool output) {
    Napi::Value v = info_[i];
    const std::string want =
        std::string("Expected Uint8Array of length ") + std::to_string(length) + " for " + name + " but received ";
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      args_.fail("POSAPL_TYPE", want + describe(v));
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    if (static_cast<int64_t>(t.ElementLength()) != length) args_.fail("POSAPL_SHAPE", want + describe(v));
    uint8_t* base = static_cast<uint8_t*>(t.ArrayBuffer().Data());
    if (base == nullptr && length > 0) args_.fail("POSAPL_TYPE", want + "a detached array");
    uint8_t* begin = base + t.ByteOffset();
    spans_.push_back({name, begin, begin + length, output});
    return begin;
  }

  static std::string describe(const Napi::Value& v) {
    if (v.IsTypedArray()) {
      Napi::TypedArray t = v.As<Napi::TypedArray>();
      const char* kind = t.TypedArrayType() == napi_uint8_array     ? "Uint8Array"
                         : t.TypedArrayType() == napi_float32_array ? "Float32Array"
                                                                    : "another typed array";
      return std::string(kind) + " of length " + std::to_string(t.ElementLength());
    }
    if (v.IsNull()) return "null";
    if (v.IsUndefined()) return "undefined";
    if (v.IsArray()) return "an Array";
    return std::string("a value of type ") + (v.IsNumber() ? "number" : v.IsString() ? "string" : "object");
  }

  const Napi::CallbackInfo& info_;
  Args& args_;
  std::vector<Span> spans_;
};

}  // namespace posapl::binding
