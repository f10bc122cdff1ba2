/**
 * Loads the compiled addon with node-gyp-build: a source build in build/Release wins over a
 * prebuilt binary in prebuilds/. Loading is lazy, so the pure-TypeScript parts of the package
 * (tokenizer, checkpoint reader) work even where no binary loads.
 */
import * as path from 'path';

import { isProfiling, profiledAddon } from './profile';

import type { AddonInfo, NativeAddon } from './addonApi';

export type { AddonInfo, NativeAddon } from './addonApi';

/** The native functions, typed: each takes one object of named arguments ({@link NativeAddon}). */
export type RawAddon = NativeAddon;

// src/native and lib/native are both two levels below the package root.
const packageRoot = path.resolve(__dirname, '..', '..');
let loaded: RawAddon | undefined;

// While set, addon() answers with this one: the CUDA backend runs src/ops' wrappers (argument
// names, defaults, activation codes) against the CUDA addon, whose functions share the names.
let scoped: RawAddon | undefined;

/** Runs `body` with src/ops calling `other` (an addon with the same functions) instead of the CPU addon. */
export function withAddon<T>(other: RawAddon, body: () => T): T {
  const before = scoped;
  scoped = other;
  try {
    return body();
  } finally {
    scoped = before;
  }
}

/** The native addon, loaded on first use; throws an Error with code POSAPL_NO_BINARY and what to run. */
export function addon(): RawAddon {
  if (scoped) return scoped;
  if (loaded) return isProfiling() ? profiledAddon(loaded) : loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => RawAddon;
    loaded = load(packageRoot);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new Error(
      `posapl-native: no native binary could be loaded for ${process.platform}-${process.arch} ` +
        `(Node ${process.version}, N-API ${process.versions.napi}): ${reason.split('\n')[0]}\n` +
        'Build it from source with "npm rebuild posapl-native" (needs python3, make and a C++17 compiler), ' +
        'or reinstall the package on a platform with a prebuilt binary (linux-x64).',
    ) as Error & { code: string };
    error.code = 'POSAPL_NO_BINARY';
    throw error;
  }
  return isProfiling() ? profiledAddon(loaded) : loaded;
}

/** Facts about the loaded binary: SIMD path, threads, CUDA support. */
export function nativeInfo(): AddonInfo {
  return addon().info();
}
