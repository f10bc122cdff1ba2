// Argument validation at the native boundary. Every exported function takes one object and
// reads its arguments BY NAME through Args, so two same-sized arguments cannot be swapped by
// position. Args checks kind, typed-array length against the shapes, dimension ranges, output
// aliasing and the names themselves, and throws a JS Error with a `code` naming the argument:
//   POSAPL_ARGS   not exactly one object, a required name missing, or a name the op does not know
//   POSAPL_TYPE   wrong kind of value (e.g. Float64Array where Float32Array is needed)
//   POSAPL_SHAPE  a length that does not match the shapes, or a dimension out of range
//   POSAPL_ALIAS  an output that overlaps another argument's memory
//   POSAPL_DEVICE (CUDA addon) a device tensor that is not inside live device memory of the backend
// In the CUDA addon (POSAPL_CUDA_ADDON) every array argument is a device tensor object
// { address: bigint, length, dtype: 'f32' | 'i32' | 'bf16' } instead of a typed array, with the
// same checks (kind, length, overlap) plus the address range.
// Nothing past the checks can fault on user input.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace posapl::binding {

[[noreturn]] void throw_error(Napi::Env env, const char* code, const std::string& message);

class Args {
 public:
  // `op` names the function in messages; the call must pass exactly one plain object.
  Args(const Napi::CallbackInfo& info, const char* op);
  // For functions that take no arguments at all.
  static void none(const Napi::CallbackInfo& info, const char* op);

  // Typed arrays of exactly `length` elements. Outputs are checked against every other
  // array argument for overlap when finish() runs.
  const float* f32_in(const char* name, int64_t length);
  float* f32_out(const char* name, int64_t length);
  // null or undefined gives nullptr.
  const float* f32_in_or_null(const char* name, int64_t length);
  float* f32_out_or_null(const char* name, int64_t length);
  const int32_t* i32_in(const char* name, int64_t length);
  int32_t* i32_out(const char* name, int64_t length);
  // Uint8Array pixel buffers (the image ops).
  const uint8_t* u8_in(const char* name, int64_t length);
  uint8_t* u8_out(const char* name, int64_t length);
  // Uint16Array bf16 buffers (packed weights).
  const uint16_t* u16_in(const char* name, int64_t length);
  uint16_t* u16_out(const char* name, int64_t length);

  // A host Float32Array, Int32Array or Uint16Array of any length: the CUDA addon's transfers.
  struct HostView {
    void* data;
    int64_t length;
    const char* dtype;  // 'f32', 'i32' or 'bf16'
  };
  HostView host_array(const char* name);
#ifdef POSAPL_CUDA_ADDON
  // A device tensor of any dtype and length (transfers, copies, fills); recorded for finish().
  struct DeviceView {
    uint8_t* data;
    int64_t length;
    std::string dtype;
    size_t bytes;
  };
  DeviceView device_tensor(const char* name, bool output);
#endif

  // Integer in [1, 2^31 - 1].
  int64_t dim(const char* name);
  // Integer in [lo, hi].
  int64_t integer(const char* name, int64_t lo, int64_t hi);
  bool flag(const char* name);
  // Requires `name` to be absent, null or undefined; `why` ends the message.
  void absent(const char* name, const char* why);
  // A string (returned as the JS value).
  Napi::Value string(const char* name);
  // A finite number.
  double number(const char* name);
  // A BigInt that fits in 64 unsigned bits (device addresses).
  uint64_t bigint(const char* name);
  // An array of Float32Array, each as long as the matching entry of `lengths` (or, when
  // lengths is empty, any positive length); used by multi-tensor ops such as AdamW.
  std::vector<float*> f32_list_out(const char* name, std::vector<int64_t>* lengths);

  // Product of dimensions, checked against overflow (limit 2^40 elements).
  int64_t size(std::initializer_list<int64_t> dims, const char* what);

  // Rejects names the op did not read and overlapping outputs; call after reading every argument.
  void finish();

  Napi::Env env() const { return info_.Env(); }
  [[noreturn]] void fail(const char* code, const std::string& message) const;

 private:
  struct Span {
    const char* name;
    const uint8_t* begin;
    const uint8_t* end;
    bool output;
  };
  // The named property, remembered as known; a required one that is missing is POSAPL_ARGS.
  Napi::Value get(const char* name, bool required, const std::string& want, const char* suffix);
  void reject_unknown_names() const;
  void* typed(const char* name, napi_typedarray_type type, const char* type_name,
              int64_t length, bool nullable, bool output);
#ifdef POSAPL_CUDA_ADDON
  uint8_t* device(const std::string& label, const Napi::Value& v, napi_typedarray_type type, int64_t length,
                  const std::string& want);
#endif
  std::string describe(const Napi::Value& v) const;
  std::string span_name(size_t index) const;

  const Napi::CallbackInfo& info_;
  const char* op_;
  Napi::Object object_;
  std::vector<const char*> known_;  // every name read
  size_t present_ = 0;              // names read whose value was not undefined
  std::vector<Span> spans_;
  std::vector<std::string> labels_;                          // names of list entries
  std::vector<std::pair<size_t, size_t>> list_label_index_;  // span index -> label index
};

}  // namespace posapl::binding
