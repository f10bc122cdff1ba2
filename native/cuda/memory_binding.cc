// The CUDA addon's own functions: whether CUDA runs here, device memory, host <-> device
// transfers, fills, the math mode and the text tower's row moves. Every argument is read by name
// and checked like the ops' (binding/args.h); device tensors must lie in live device memory.
#include <cuda_runtime.h>

#include <cstring>
#include <vector>

#include "../binding/args.h"
#include "../binding/registry.h"
#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "device_memory.h"

namespace posapl::binding {

namespace {

// What CUDA offers here, without failing: { ok, reason, driverVersion, runtimeVersion, devices,
// device, memoryBytes, computeCapability }.
Napi::Value CudaProbe(const Napi::CallbackInfo& info) {
  Args::none(info, "cudaProbe");
  const cuda::Probe& p = cuda::probe();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", p.ok);
  o.Set("reason", p.reason);
  o.Set("driverVersion", p.driver_version);
  o.Set("runtimeVersion", p.runtime_version);
  o.Set("devices", p.device_count);
  o.Set("device", p.device_name);
  o.Set("memoryBytes", static_cast<double>(p.total_memory));
  o.Set("computeCapability", std::to_string(p.cc_major) + "." + std::to_string(p.cc_minor));
  return o;
}
POSAPL_EXPORT("cudaProbe", CudaProbe);

// deviceAlloc({ bytes }) -> the address (bigint) of a new block; POSAPL_OOM names the size.
Napi::Value DeviceAlloc(const Napi::CallbackInfo& info) {
  Args args(info, "deviceAlloc");
  const int64_t bytes = args.integer("bytes", 1, int64_t{1} << 40);
  args.finish();
  void* ptr = cuda::device_alloc(static_cast<size_t>(bytes));
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ptr)));
}
POSAPL_EXPORT("deviceAlloc", DeviceAlloc);

// deviceFree({ address }): a block deviceAlloc made; anything else is POSAPL_DEVICE.
Napi::Value DeviceFree(const Napi::CallbackInfo& info) {
  Args args(info, "deviceFree");
  const uint64_t at = args.bigint("address");
  args.finish();
  if (!cuda::device_free(reinterpret_cast<void*>(static_cast<uintptr_t>(at))))
    args.fail("POSAPL_DEVICE", "Expected address to be a live block made by deviceAlloc but it is not");
  return info.Env().Undefined();
}
POSAPL_EXPORT("deviceFree", DeviceFree);

// upload({ dst, src }): host array -> device tensor of the same dtype and length.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Args args(info, "upload");
  const Args::DeviceView dst = args.device_tensor("dst", true);
  const Args::HostView src = args.host_array("src");
  args.finish();
  if (dst.dtype != src.dtype || dst.length != src.length)
    args.fail("POSAPL_SHAPE", "Expected src to be " + dst.dtype + " of length " + std::to_string(dst.length) +
                                  " like dst but received " + src.dtype + " of length " + std::to_string(src.length));
  // Pageable source: the call returns once the bytes are staged, so the array may change after.
  cuda::check(cudaMemcpyAsync(dst.data, src.data, dst.bytes, cudaMemcpyHostToDevice, cuda::stream()), "upload");
  return info.Env().Undefined();
}
POSAPL_EXPORT("upload", Upload);

// download({ src, dst }): device tensor -> host array of the same dtype and length; waits.
Napi::Value Download(const Napi::CallbackInfo& info) {
  Args args(info, "download");
  const Args::DeviceView src = args.device_tensor("src", false);
  const Args::HostView dst = args.host_array("dst");
  args.finish();
  if (dst.dtype != src.dtype || dst.length != src.length)
    args.fail("POSAPL_SHAPE", "Expected dst to be " + src.dtype + " of length " + std::to_string(src.length) +
                                  " like src but received " + dst.dtype + " of length " + std::to_string(dst.length));
  cuda::check(cudaMemcpyAsync(dst.data, src.data, src.bytes, cudaMemcpyDeviceToHost, cuda::stream()), "download");
  cuda::check(cudaStreamSynchronize(cuda::stream()), "download");
  return info.Env().Undefined();
}
POSAPL_EXPORT("download", Download);

// deviceCopy({ dst, src }): same byte size, any dtypes.
Napi::Value DeviceCopy(const Napi::CallbackInfo& info) {
  Args args(info, "deviceCopy");
  const Args::DeviceView dst = args.device_tensor("dst", true);
  const Args::DeviceView src = args.device_tensor("src", false);
  args.finish();
  if (dst.bytes != src.bytes)
    args.fail("POSAPL_SHAPE", "Expected src of " + std::to_string(dst.bytes) + " bytes like dst but received " +
                                  std::to_string(src.bytes) + " bytes");
  cuda::check(cudaMemcpyAsync(dst.data, src.data, dst.bytes, cudaMemcpyDeviceToDevice, cuda::stream()), "deviceCopy");
  return info.Env().Undefined();
}
POSAPL_EXPORT("deviceCopy", DeviceCopy);

// deviceFill({ dst, value }): every element = value (f32 or i32 tensors).
Napi::Value DeviceFill(const Napi::CallbackInfo& info) {
  Args args(info, "deviceFill");
  const Args::DeviceView dst = args.device_tensor("dst", true);
  const double value = args.number("value");
  args.finish();
  uint32_t bits;
  if (dst.dtype == "f32") {
    const float f = static_cast<float>(value);
    std::memcpy(&bits, &f, 4);
  } else if (dst.dtype == "i32") {
    if (value != static_cast<double>(static_cast<int32_t>(value)))
      args.fail("POSAPL_SHAPE", "Expected an int32 value for an i32 dst but received " + std::to_string(value));
    const int32_t i = static_cast<int32_t>(value);
    std::memcpy(&bits, &i, 4);
  } else {
    args.fail("POSAPL_TYPE", "Expected an f32 or i32 dst but received a " + dst.dtype + " device tensor");
  }
  cuda::fill_u32(reinterpret_cast<uint32_t*>(dst.data), bits, dst.length);
  return info.Env().Undefined();
}
POSAPL_EXPORT("deviceFill", DeviceFill);

// synchronize(): waits for every enqueued op; a kernel's fault surfaces here as POSAPL_CUDA.
Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Args::none(info, "synchronize");
  cuda::check(cudaStreamSynchronize(cuda::stream()), "synchronize");
  return info.Env().Undefined();
}
POSAPL_EXPORT("synchronize", Synchronize);

// deviceMemory({ resetPeak }): { liveBytes, peakBytes, blocks, freeBytes, totalBytes }.
Napi::Value DeviceMemory(const Napi::CallbackInfo& info) {
  Args args(info, "deviceMemory");
  const bool reset = args.flag("resetPeak");
  args.finish();
  if (reset) cuda::reset_peak();
  const cuda::MemoryStats s = cuda::memory_stats();
  size_t free_bytes = 0, total = 0;
  cuda::stream();
  cuda::check(cudaMemGetInfo(&free_bytes, &total), "cudaMemGetInfo");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveBytes", static_cast<double>(s.live_bytes));
  o.Set("peakBytes", static_cast<double>(s.peak_bytes));
  o.Set("blocks", static_cast<double>(s.blocks));
  o.Set("freeBytes", static_cast<double>(free_bytes));
  o.Set("totalBytes", static_cast<double>(total));
  return o;
}
POSAPL_EXPORT("deviceMemory", DeviceMemory);

// setMathMode({ mode: 'fp32' | 'tf32' }): how the fp32 GEMMs run from now on.
Napi::Value SetMathMode(const Napi::CallbackInfo& info) {
  Args args(info, "setMathMode");
  const std::string mode = args.string("mode").As<Napi::String>().Utf8Value();
  args.finish();
  if (mode == "fp32") cuda::set_math_mode(cuda::MathMode::Fp32);
  else if (mode == "tf32") cuda::set_math_mode(cuda::MathMode::Tf32);
  else args.fail("POSAPL_TYPE", "Expected 'fp32' or 'tf32' for mode but received '" + mode + "'");
  return info.Env().Undefined();
}
POSAPL_EXPORT("setMathMode", SetMathMode);

// Row indexes are read back and checked on the host (n int32s) before a kernel uses them.
void check_index(Args& args, const int32_t* index, int64_t n, int64_t l) {
  std::vector<int32_t> host(static_cast<size_t>(n));
  cuda::check(cudaMemcpyAsync(host.data(), index, n * sizeof(int32_t), cudaMemcpyDeviceToHost, cuda::stream()), "index");
  cuda::check(cudaStreamSynchronize(cuda::stream()), "index");
  for (int64_t i = 0; i < n; ++i)
    if (host[i] < 0 || host[i] >= l)
      args.fail("POSAPL_SHAPE", "Expected index entries in [0, " + std::to_string(l) + ") but received index[" +
                                    std::to_string(i) + "] = " + std::to_string(host[i]));
}

// argmaxRows({ out (n), ids (n,l), n, l }): the first position of each row's largest id.
Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  Args args(info, "argmaxRows");
  const int64_t n = args.dim("n"), l = args.dim("l");
  int32_t* out = args.i32_out("out", n);
  const int32_t* ids = args.i32_in("ids", args.size({n, l}, "ids"));
  args.finish();
  cuda::argmax_rows(out, ids, n, l);
  return info.Env().Undefined();
}
POSAPL_EXPORT("argmaxRows", ArgmaxRows);

// gatherRows({ out (n,c), x (n,l,c), index (n), n, l, c }): out[i] = x[i, index[i]].
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Args args(info, "gatherRows");
  const int64_t n = args.dim("n"), l = args.dim("l"), c = args.dim("c");
  float* out = args.f32_out("out", args.size({n, c}, "out"));
  const float* x = args.f32_in("x", args.size({n, l, c}, "x"));
  const int32_t* index = args.i32_in("index", n);
  args.finish();
  check_index(args, index, n, l);
  cuda::gather_rows(out, x, index, n, l, c);
  return info.Env().Undefined();
}
POSAPL_EXPORT("gatherRows", GatherRows);

// scatterRows({ dx (n,l,c), rows (n,c), index (n), n, l, c, accumulate }): dx[i, index[i]] = rows[i]
// (other rows zero), or += with accumulate.
Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  Args args(info, "scatterRows");
  const int64_t n = args.dim("n"), l = args.dim("l"), c = args.dim("c");
  const bool accumulate = args.flag("accumulate");
  float* dx = args.f32_out("dx", args.size({n, l, c}, "dx"));
  const float* rows = args.f32_in("rows", args.size({n, c}, "rows"));
  const int32_t* index = args.i32_in("index", n);
  args.finish();
  check_index(args, index, n, l);
  cuda::scatter_rows(dx, rows, index, n, l, c, accumulate);
  return info.Env().Undefined();
}
POSAPL_EXPORT("scatterRows", ScatterRows);

}  // namespace

}  // namespace posapl::binding
