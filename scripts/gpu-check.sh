#!/usr/bin/env bash
# Runs the GPU check (scripts/gpu-check.js) on a GPU host that has no Node.js and no compiler for
# the addon: everything it needs is built here and carried (see ../shared/gpu/README.md).
#
# Here (the CPU machine, from the project root):
#   npm run compile && npm run build:cuda && ../shared/gpu/pack-for-gpu-host.sh
# Then on the GPU host, through the device tool, carrying the built files:
#   run(command="bash scripts/gpu-check.sh", carry=[".gpu-bundle", "lib", "build/Release/posapl.node",
#       "build-cuda/Release/posapl_cuda.node", "node_modules/node-gyp-build"])
# It prints per-section progress, then a short table; $OUT/gpu-check.json holds every figure.
# Extra arguments go to gpu-check.js (e.g. --sections ops,model --steps 4).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  [ -s .gpu-bundle/node.xz ] || { echo "gpu-check: no node here and no .gpu-bundle/node.xz carried" >&2; exit 2; }
  xz -dc .gpu-bundle/node.xz > /tmp/node && chmod +x /tmp/node && export PATH=/tmp:$PATH
fi
for f in lib/index.js build/Release/posapl.node build-cuda/Release/posapl_cuda.node node_modules/node-gyp-build/index.js; do
  [ -e "$f" ] || { echo "gpu-check: $f is missing: build it here and carry it" >&2; exit 2; }
done
export OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,temperature.gpu --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
echo "node $(node --version), $(nproc) cores, $(python3 -c 'import torch; print("torch", torch.__version__)' 2>/dev/null || echo 'no torch')"
if [ $# -gt 0 ]; then
  timeout 500 node scripts/gpu-check.js "$@" 2>&1 | tee "$OUT/gpu-check.log"
  exit "${PIPESTATUS[0]}"
fi
# Correctness with every launch checked at once (a fault names its kernel), then the timings
# without that synchronisation, in a fresh process (a fault would leave the context unusable).
POSAPL_CUDA_SYNC=1 timeout 240 node scripts/gpu-check.js --sections harness,ops,model 2>&1 | tee "$OUT/gpu-check-correctness.log"
first=${PIPESTATUS[0]}
timeout 240 node scripts/gpu-check.js --steps 4 --sections timing,torch 2>&1 | tee "$OUT/gpu-check-timing.log"
second=${PIPESTATUS[0]}
echo "gpu-check: correctness exit $first, timing exit $second"
[ "$first" = 0 ] && [ "$second" = 0 ]
