#include "args.h"

#include <cmath>
#include <unordered_map>

#ifdef POSAPL_CUDA_ADDON
#include "device_memory.h"
#endif

namespace posapl::binding {

void throw_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

Args::Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {
  if (info.Length() != 1)
    fail("POSAPL_ARGS", "Expected 1 argument (an object of named arguments) but received " +
                            std::to_string(info.Length()));
  Napi::Value v = info[0];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction() || v.IsArrayBuffer())
    fail("POSAPL_ARGS", "Expected an object of named arguments but received " + describe(v));
  object_ = v.As<Napi::Object>();
}

void Args::none(const Napi::CallbackInfo& info, const char* op) {
  if (info.Length() != 0)
    throw_error(info.Env(), "POSAPL_ARGS", std::string("posapl.") + op + ": Expected 0 arguments but received " +
                                                std::to_string(info.Length()));
}

// Argument names are string literals: each becomes one JS string per environment, held in an
// array for the addon's life (Node-API refers to objects, not strings), so a call looks its names
// up without creating strings.
struct NameKeys {
  Napi::Reference<Napi::Array> strings;
  std::unordered_map<const char*, uint32_t> slot;
};

static Napi::Value name_key(Napi::Env env, const char* name) {
  NameKeys* cache = env.GetInstanceData<NameKeys>();
  if (cache == nullptr) {
    cache = new NameKeys();
    cache->strings = Napi::Persistent(Napi::Array::New(env));
    env.SetInstanceData(cache);
  }
  Napi::Array strings = cache->strings.Value();
  auto it = cache->slot.find(name);
  if (it == cache->slot.end()) {
    const uint32_t k = static_cast<uint32_t>(cache->slot.size());
    strings.Set(k, Napi::String::New(env, name));
    it = cache->slot.emplace(name, k).first;
  }
  return strings.Get(it->second);
}

Napi::Value Args::get(const char* name, bool required, const std::string& want, const char* suffix) {
  Napi::Value v = object_.Get(name_key(info_.Env(), name));
  known_.push_back(name);
  if (!v.IsUndefined()) {
    ++present_;
  } else if (required) {
    fail("POSAPL_ARGS", "Missing argument " + std::string(name) + ": " + want + suffix);
  }
  return v;
}

void Args::absent(const char* name, const char* why) {
  Napi::Value v = get(name, false, "", "");
  if (!v.IsNull() && !v.IsUndefined())
    fail("POSAPL_TYPE", std::string("Expected null for ") + name + " (" + why + ")");
}

// Each present name read counts once, so more own enumerable keys than that means a name the op
// does not know (a typo, or an argument of another op): name it rather than ignore it.
void Args::reject_unknown_names() const {
  Napi::Array keys = object_.GetPropertyNames();
  if (keys.Length() <= present_) return;
  for (uint32_t k = 0; k < keys.Length(); ++k) {
    Napi::Value key = keys.Get(k);
    if (!key.IsString()) continue;
    const std::string s = key.As<Napi::String>().Utf8Value();
    bool found = false;
    for (const char* n : known_) found = found || s == n;
    if (!found) {
      std::string names;
      for (const char* n : known_) names += (names.empty() ? "" : ", ") + std::string(n);
      fail("POSAPL_ARGS", "Unknown argument " + s + " (expected only " + names + ")");
    }
  }
}

void Args::fail(const char* code, const std::string& message) const {
  throw_error(info_.Env(), code, std::string("posapl.") + op_ + ": " + message);
}

static const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

std::string Args::describe(const Napi::Value& v) const {
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    return std::string(typed_array_name(t.TypedArrayType())) + " of length " +
           std::to_string(t.ElementLength());
  }
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsObject() && !v.IsArray() && !v.IsFunction()) {
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value dtype = o.Get("dtype"), length = o.Get("length");
    if (dtype.IsString() && length.IsNumber())
      return "a " + dtype.As<Napi::String>().Utf8Value() + " device tensor of length " +
             std::to_string(length.As<Napi::Number>().Int64Value());
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    std::string s = std::to_string(d);
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) s = std::to_string(static_cast<int64_t>(d));
    return s + " of type number";
  }
  if (v.IsBoolean()) return std::string(v.As<Napi::Boolean>().Value() ? "true" : "false") + " of type boolean";
  if (v.IsString()) return "a string";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsArray()) return "an Array";
  if (v.IsFunction()) return "a function";
  return "a value of type object";
}

#ifdef POSAPL_CUDA_ADDON
static size_t element_bytes(napi_typedarray_type type) {
  return type == napi_float32_array || type == napi_int32_array ? 4 : type == napi_uint16_array ? 2 : 1;
}

// The device element type a typed-array kind stands for in the CUDA addon.
static const char* device_dtype(napi_typedarray_type type) {
  switch (type) {
    case napi_float32_array: return "f32";
    case napi_int32_array: return "i32";
    case napi_uint16_array: return "bf16";
    default: return "u8";
  }
}

// In the CUDA addon an array argument is a device tensor { address: bigint, length, dtype } that
// must lie inside a live allocation of this addon: a stale or forged address is refused here,
// before any kernel could touch it. `length` < 0 accepts any positive length.
uint8_t* Args::device(const std::string& label, const Napi::Value& v, napi_typedarray_type type, int64_t length,
                      const std::string& want) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) fail("POSAPL_TYPE", want + describe(v));
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value address = o.Get("address"), count = o.Get("length"), dtype = o.Get("dtype");
  if (!address.IsBigInt() || !count.IsNumber() || !dtype.IsString()) fail("POSAPL_TYPE", want + describe(v));
  if (dtype.As<Napi::String>().Utf8Value() != device_dtype(type)) fail("POSAPL_TYPE", want + describe(v));
  const double n = count.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n == std::floor(n) && n < 1e15)) fail("POSAPL_SHAPE", want + describe(v));
  const int64_t have = static_cast<int64_t>(n);
  if (length >= 0 ? have != length : have < 1) fail("POSAPL_SHAPE", want + describe(v));
  bool lossless = false;
  const uint64_t at = address.As<Napi::BigInt>().Uint64Value(&lossless);
  const size_t bytes = static_cast<size_t>(have) * element_bytes(type);
  uint8_t* begin = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(at));
  if (!lossless || !cuda::device_range_live(begin, bytes))
    fail("POSAPL_DEVICE", "Expected " + label + " to lie in live device memory of this backend but it does not (freed, or not made by it)");
  return begin;
}
#endif

void* Args::typed(const char* name, napi_typedarray_type type, const char* type_name,
                  int64_t length, bool nullable, bool output) {
#ifdef POSAPL_CUDA_ADDON
  const std::string want = std::string("Expected ") + (nullable ? "null or " : "") + "a " + device_dtype(type) +
                           " device tensor of length " + std::to_string(length) + " for " + name + " but received ";
  Napi::Value v = get(name, !nullable, want, "nothing");
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  uint8_t* at = device(name, v, type, length, want);
  spans_.push_back({name, at, at + length * static_cast<int64_t>(element_bytes(type)), output});
  return at;
#else
  const std::string want = std::string("Expected ") + (nullable ? "null or " : "") + type_name +
                           " of length " + std::to_string(length) + " for " + name + " but received ";
  Napi::Value v = get(name, !nullable, want, "nothing");
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray()) fail("POSAPL_TYPE", want + describe(v));
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != type) fail("POSAPL_TYPE", want + describe(v));
  if (static_cast<int64_t>(t.ElementLength()) != length) fail("POSAPL_SHAPE", want + describe(v));
  Napi::ArrayBuffer buffer = t.ArrayBuffer();
  uint8_t* base = static_cast<uint8_t*>(buffer.Data());
  if (base == nullptr && length > 0) fail("POSAPL_TYPE", want + "a detached array");
  uint8_t* begin = base + t.ByteOffset();
  spans_.push_back({name, begin, begin + t.ByteLength(), output});
  return begin;
#endif
}

Args::HostView Args::host_array(const char* name) {
  const std::string want = std::string("Expected Float32Array, Int32Array or Uint16Array for ") + name + " but received ";
  Napi::Value v = get(name, true, want, "nothing");
  if (!v.IsTypedArray()) fail("POSAPL_TYPE", want + describe(v));
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  const napi_typedarray_type type = t.TypedArrayType();
  const char* dtype = type == napi_float32_array ? "f32" : type == napi_int32_array ? "i32" : type == napi_uint16_array ? "bf16" : nullptr;
  if (dtype == nullptr) fail("POSAPL_TYPE", want + describe(v));
  uint8_t* base = static_cast<uint8_t*>(t.ArrayBuffer().Data());
  if (base == nullptr && t.ElementLength() > 0) fail("POSAPL_TYPE", want + "a detached array");
  return {base + t.ByteOffset(), static_cast<int64_t>(t.ElementLength()), dtype};
}

#ifdef POSAPL_CUDA_ADDON
Args::DeviceView Args::device_tensor(const char* name, bool output) {
  const std::string want = std::string("Expected a device tensor for ") + name + " but received ";
  Napi::Value v = get(name, true, want, "nothing");
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) fail("POSAPL_TYPE", want + describe(v));
  Napi::Value dtype = v.As<Napi::Object>().Get("dtype");
  const std::string d = dtype.IsString() ? dtype.As<Napi::String>().Utf8Value() : "";
  const napi_typedarray_type type = d == "f32" ? napi_float32_array : d == "i32" ? napi_int32_array : d == "bf16" ? napi_uint16_array : napi_uint8_array;
  if (type == napi_uint8_array) fail("POSAPL_TYPE", want + describe(v));
  uint8_t* at = device(name, v, type, -1, want);
  const int64_t length = v.As<Napi::Object>().Get("length").As<Napi::Number>().Int64Value();
  const size_t bytes = static_cast<size_t>(length) * element_bytes(type);
  spans_.push_back({name, at, at + bytes, output});
  return {at, length, d, bytes};
}
#endif

const float* Args::f32_in(const char* name, int64_t length) {
  return static_cast<const float*>(typed(name, napi_float32_array, "Float32Array", length, false, false));
}
float* Args::f32_out(const char* name, int64_t length) {
  return static_cast<float*>(typed(name, napi_float32_array, "Float32Array", length, false, true));
}
const float* Args::f32_in_or_null(const char* name, int64_t length) {
  return static_cast<const float*>(typed(name, napi_float32_array, "Float32Array", length, true, false));
}
float* Args::f32_out_or_null(const char* name, int64_t length) {
  return static_cast<float*>(typed(name, napi_float32_array, "Float32Array", length, true, true));
}
const int32_t* Args::i32_in(const char* name, int64_t length) {
  return static_cast<const int32_t*>(typed(name, napi_int32_array, "Int32Array", length, false, false));
}

int32_t* Args::i32_out(const char* name, int64_t length) {
  return static_cast<int32_t*>(typed(name, napi_int32_array, "Int32Array", length, false, true));
}

const uint8_t* Args::u8_in(const char* name, int64_t length) {
  return static_cast<const uint8_t*>(typed(name, napi_uint8_array, "Uint8Array", length, false, false));
}
uint8_t* Args::u8_out(const char* name, int64_t length) {
  return static_cast<uint8_t*>(typed(name, napi_uint8_array, "Uint8Array", length, false, true));
}

const uint16_t* Args::u16_in(const char* name, int64_t length) {
  return static_cast<const uint16_t*>(typed(name, napi_uint16_array, "Uint16Array", length, false, false));
}
uint16_t* Args::u16_out(const char* name, int64_t length) {
  return static_cast<uint16_t*>(typed(name, napi_uint16_array, "Uint16Array", length, false, true));
}

int64_t Args::integer(const char* name, int64_t lo, int64_t hi) {
  const std::string want = std::string("Expected integer in [") + std::to_string(lo) + ", " +
                           std::to_string(hi) + "] for " + name + " but received ";
  Napi::Value v = get(name, true, want, "nothing");
  if (!v.IsNumber()) fail("POSAPL_TYPE", want + describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
    fail("POSAPL_SHAPE", want + describe(v));
  return static_cast<int64_t>(d);
}

int64_t Args::dim(const char* name) { return integer(name, 1, 2147483647LL); }

bool Args::flag(const char* name) {
  Napi::Value v = get(name, true, "", "Expected boolean");
  if (!v.IsBoolean()) fail("POSAPL_TYPE", std::string("Expected boolean for ") + name + " but received " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

Napi::Value Args::string(const char* name) {
  Napi::Value v = get(name, true, "", "Expected string");
  if (!v.IsString()) fail("POSAPL_TYPE", std::string("Expected string for ") + name + " but received " + describe(v));
  return v;
}

double Args::number(const char* name) {
  Napi::Value v = get(name, true, "", "Expected finite number");
  if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
    fail("POSAPL_TYPE", std::string("Expected finite number for ") + name + " but received " + describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

uint64_t Args::bigint(const char* name) {
  Napi::Value v = get(name, true, "", "Expected bigint");
  bool lossless = false;
  const uint64_t value = v.IsBigInt() ? v.As<Napi::BigInt>().Uint64Value(&lossless) : 0;
  if (!lossless) fail("POSAPL_TYPE", std::string("Expected bigint for ") + name + " but received " + describe(v));
  return value;
}

std::vector<float*> Args::f32_list_out(const char* name, std::vector<int64_t>* lengths) {
  Napi::Value v = get(name, true, "", "Expected Array of Float32Array");
  if (!v.IsArray()) fail("POSAPL_TYPE", std::string("Expected Array of Float32Array for ") + name + " but received " + describe(v));
  Napi::Array arr = v.As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (!lengths->empty() && lengths->size() != n)
    fail("POSAPL_SHAPE", std::string("Expected ") + std::to_string(lengths->size()) + " arrays in " + name +
                             " but received " + std::to_string(n));
  std::vector<float*> out;
  std::vector<int64_t> fresh;  // lengths read in the CUDA addon when none were given
  for (uint32_t k = 0; k < n; ++k) {
    Napi::Value e = arr.Get(k);
    const std::string label = std::string(name) + "[" + std::to_string(k) + "]";
#ifdef POSAPL_CUDA_ADDON
    {
      const int64_t want_len = lengths->size() > k ? (*lengths)[k] : -1;
      uint8_t* begin = device(label, e, napi_float32_array, want_len,
                              "Expected an f32 device tensor" + (want_len >= 0 ? " of length " + std::to_string(want_len) : std::string()) +
                                  " for " + label + " but received ");
      const int64_t len = e.As<Napi::Object>().Get("length").As<Napi::Number>().Int64Value();
      labels_.push_back(label);
      out.push_back(reinterpret_cast<float*>(begin));
      spans_.push_back({nullptr, begin, begin + len * 4, true});
      list_label_index_.push_back({spans_.size() - 1, labels_.size() - 1});
      if (lengths->size() <= k) fresh.push_back(len);
      continue;
    }
#endif
    if (!e.IsTypedArray() || e.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      fail("POSAPL_TYPE", "Expected Float32Array for " + label + " but received " + describe(e));
    Napi::TypedArray t = e.As<Napi::TypedArray>();
    int64_t len = static_cast<int64_t>(t.ElementLength());
    if (lengths->empty() || lengths->size() <= k) {
      if (len < 1) fail("POSAPL_SHAPE", "Expected non-empty Float32Array for " + label + " but received " + describe(e));
    } else if ((*lengths)[k] != len) {
      fail("POSAPL_SHAPE", "Expected Float32Array of length " + std::to_string((*lengths)[k]) + " for " + label +
                               " but received " + describe(e));
    }
    uint8_t* begin = static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
    if (t.ArrayBuffer().Data() == nullptr) fail("POSAPL_TYPE", "Expected Float32Array for " + label + " but received a detached array");
    // Names of list entries must outlive this call for finish(); keep them in a stable store.
    labels_.push_back(label);
    out.push_back(reinterpret_cast<float*>(begin));
    spans_.push_back({nullptr, begin, begin + t.ByteLength(), true});
    list_label_index_.push_back({spans_.size() - 1, labels_.size() - 1});
  }
  if (lengths->empty()) {
#ifdef POSAPL_CUDA_ADDON
    *lengths = fresh;
#else
    for (uint32_t k = 0; k < n; ++k) lengths->push_back(arr.Get(k).As<Napi::TypedArray>().ElementLength());
#endif
  }
  return out;
}

int64_t Args::size(std::initializer_list<int64_t> dims, const char* what) {
  const int64_t limit = int64_t{1} << 40;
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && total > limit / d))
      fail("POSAPL_SHAPE", std::string("The shapes make ") + what + " too large");
    total *= d;
  }
  return total;
}

void Args::finish() {
  reject_unknown_names();
  for (size_t a = 0; a < spans_.size(); ++a) {
    if (!spans_[a].output) continue;
    for (size_t b = 0; b < spans_.size(); ++b) {
      if (a == b) continue;
      const Span& x = spans_[a];
      const Span& y = spans_[b];
      if (x.begin < y.end && y.begin < x.end && x.begin != x.end && y.begin != y.end)
        fail("POSAPL_ALIAS", "Expected " + span_name(a) + " not to share memory with " + span_name(b));
    }
  }
}

std::string Args::span_name(size_t index) const {
  if (spans_[index].name != nullptr) return spans_[index].name;
  for (const auto& p : list_label_index_)
    if (p.first == index) return labels_[p.second];
  return "an argument";
}

}  // namespace posapl::binding
