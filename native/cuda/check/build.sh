#!/usr/bin/env bash
# Builds dense_ops_check (see dense_ops_check.cu): the CUDA dense ops against the CPU library,
# linked statically against the CUDA runtime (cuBLAS is dlopen'ed at run time, as in the addon).
#   native/cuda/check/build.sh [OUT_DIR]      (default build/cuda-check) -> OUT_DIR/dense_ops_check
# Set WITH_CUDA_ATTENTION=1 to use native/cuda/attention.cu instead of the host attention shim.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
out="${1:-$root/build/cuda-check}"
mkdir -p "$out/obj"
cd "$root"

gencode=(-gencode=arch=compute_90,code=sm_90 -gencode=arch=compute_90,code=compute_90)
cuda_sources=(cuda_common gemm elementwise mlp_adapter sa_adapter side_fusion adamw)
defines=()
if [[ "${WITH_CUDA_ATTENTION:-0}" == 1 ]]; then
  cuda_sources+=(attention)
  defines+=(-DPOSAPL_CHECK_WITH_CUDA_ATTENTION)
fi

objects=()
for f in native/cpu/*.cc; do
  o="$out/obj/cpu_$(basename "$f" .cc).o"
  g++ -std=c++17 -O3 -fno-math-errno -pthread -I native/include -c "$f" -o "$o"
  objects+=("$o")
done
for name in "${cuda_sources[@]}"; do
  o="$out/obj/cuda_$name.o"
  nvcc -std=c++17 -O3 -Xcompiler -Wall -I native/include -I native/cuda "${gencode[@]}" -c "native/cuda/$name.cu" -o "$o"
  objects+=("$o")
done
nvcc -std=c++17 -O2 -Xcompiler -Wall -I native/include -I native/cuda "${defines[@]}" "${gencode[@]}" \
  -c native/cuda/check/dense_ops_check.cu -o "$out/obj/dense_ops_check.o"
nvcc -o "$out/dense_ops_check" "$out/obj/dense_ops_check.o" "${objects[@]}" -ldl -lpthread
echo "$out/dense_ops_check"
