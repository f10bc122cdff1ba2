#!/usr/bin/env node
// Compiles the CPU addon from source with node-gyp: configures once, then rebuilds only what
// changed (make). Tests run this first so a prebuilt binary never stands in for the code under test.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

// Several builds at once in one build/ folder corrupt it: take a lock first (flock from util-linux).
if (!process.env.POSAPL_BUILD_LOCKED && spawnSync('flock', ['--version']).status === 0) {
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  const r = spawnSync('flock', [path.join(root, 'build', '.lock'), process.execPath, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, POSAPL_BUILD_LOCKED: '1' },
  });
  process.exit(r.status === null ? 1 : r.status);
}
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
// Offline machines: build against this Node's own headers when npm has not named a nodedir.
const env = { ...process.env };
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix;
}
const run = (args) => {
  const r = spawnSync(process.execPath, [nodeGyp, ...args], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`posapl-native: "node-gyp ${args.join(' ')}" failed (exit ${r.status}). ` +
      'A C++17 compiler, make and python3 are needed to build the addon.');
    process.exit(r.status || 1);
  }
};

// Reconfigure when the source list changed, since the Makefile names each file.
const stamp = path.join(root, 'build', 'sources.stamp');
const sources = require('./native-sources.js').cpu.join('\n');
const configured = fs.existsSync(path.join(root, 'build', 'Makefile')) &&
  fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === sources;
if (!configured) {
  run(['configure']);
  fs.writeFileSync(stamp, sources);
}
run(['build', '-j', String(Math.max(1, require('os').cpus().length))]);
