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

module.exports = {
  cpu: [...list('native/cpu', '.cc'), ...list('native/binding', '.cc')],
  cuda: fs.existsSync(path.join(root, 'native/cuda')) ? list('native/cuda', '.cu') : [],
};

if (require.main === module) {
  // `node scripts/native-sources.js cpu` prints one path a line, for CMake.
  const which = process.argv[2] || 'cpu';
  process.stdout.write(module.exports[which].join('\n') + '\n');
}
