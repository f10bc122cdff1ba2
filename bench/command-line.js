// What every benchmark script reads from its command line, and the environment its peers
// (OpenBLAS, PyTorch, onnxruntime) run in.
'use strict';

const argv = process.argv.slice(2);

/** The value after --name, or `fallback` when the option is absent. */
function option(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** Whether --name was given. */
function flag(name) {
  return argv.includes(`--${name}`);
}

/**
 * process.env without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which force OpenBLAS's slower AVX2
 * kernels and cache sizes on this machine: peers must pick their own.
 */
function peerEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

module.exports = { option, flag, peerEnv };
