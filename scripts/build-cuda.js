#!/usr/bin/env node
// `npm run build:cuda`: compiles the CUDA addon (build-cuda/Release/posapl_cuda.node) with cmake-js
// and nvcc: sm_90 machine code plus compute_90 PTX, the CUDA runtime linked statically, cuBLAS
// opened at run time. Needs nvcc (CUDA 13) and cmake, never a GPU; the CPU package never needs it.
// Incremental: only changed files recompile.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-cuda');

// Two builds at once in one folder corrupt it: take a lock first (flock from util-linux).
if (!process.env.POSAPL_BUILD_LOCKED && spawnSync('flock', ['--version']).status === 0) {
  fs.mkdirSync(out, { recursive: true });
  const r = spawnSync('flock', [path.join(out, '.lock'), process.execPath, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, POSAPL_BUILD_LOCKED: '1' },
  });
  process.exit(r.status === null ? 1 : r.status);
}

const missing = ['nvcc', 'cmake'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
if (missing.length > 0) {
  console.error(`posapl-native: npm run build:cuda needs ${missing.join(' and ')} on PATH (the CUDA 13 toolkit and cmake >= 3.18). ` +
    'The CPU addon (npm install) does not need them.');
  process.exit(2);
}
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  console.error('posapl-native: npm run build:cuda needs cmake-js (a development dependency): run "npm install cmake-js" first.');
  process.exit(2);
}
const cmake = (command, ...extra) => {
  const r = spawnSync(process.execPath, [cmakeJs, command, '--out', out, '--CDPOSAPL_CUDA=ON', ...extra], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`posapl-native: the CUDA build failed (cmake-js ${command} exit ${r.status}).`);
    process.exit(r.status || 1);
  }
};
// CMake lists the sources when it configures: configure again when the list changed.
const sources = require('./native-sources.js');
const list = [...sources.cudaHost, ...sources.cuda].join('\n');
const stamp = path.join(out, 'sources.stamp');
if (!fs.existsSync(path.join(out, 'CMakeCache.txt')) || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== list) {
  cmake('configure');
  fs.writeFileSync(stamp, list);
}
cmake('build', '--parallel', String(Math.max(1, os.cpus().length)));
console.log(`posapl-native: built ${path.relative(root, path.join(out, 'Release', 'posapl_cuda.node'))}`);
