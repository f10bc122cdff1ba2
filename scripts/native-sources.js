// The addon's source list, shared by binding.gyp and CMakeLists.txt so that adding a kernel
// file never means editing two build systems.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const list = (dir, ext) =>
  fs.readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => `${dir}/${f}`);

const cpu = [...list('native/cpu', '.cc'), ...list('native/binding', '.cc')];
const hasCuda = fs.existsSync(path.join(root, 'native/cuda'));

module.exports = {
  // The CPU addon (posapl.node).
  cpu,
  // The CUDA addon (posapl_cuda.node): the CPU sources without the image bindings (host-side
  // pixel work stays in the CPU addon), the CUDA kernels and the CUDA addon's own bindings.
  cuda: hasCuda ? [...list('native/cuda', '.cu')] : [],
  cudaHost: hasCuda ? [...cpu.filter((f) => !/\/image_[a-z_]+_binding\.cc$/.test(f)), ...list('native/cuda', '.cc')] : [],
};

if (require.main === module) {
  // `node scripts/native-sources.js cpu|cuda|cudaHost` prints one path a line, for CMake.
  const which = process.argv[2] || 'cpu';
  process.stdout.write(module.exports[which].join('\n') + '\n');
}
