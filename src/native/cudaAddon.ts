/**
 * The CUDA addon (posapl_cuda.node, built by `npm run build:cuda`): a separate binary, loaded only
 * when a model asks for device 'cuda', so that installing and using the CPU package never needs
 * CUDA. Its op functions have the CPU addon's names and arguments, with device tensors
 * `{ address, length, dtype }` in place of typed arrays; the functions below are its own.
 */
import * as fs from 'fs';
import * as path from 'path';

import { posaplError } from '../errors';

import type { NativeAddon } from './addonApi';

/** A device tensor as the CUDA addon reads it: it must lie inside live memory the addon allocated. */
export interface DeviceRef {
  address: bigint;
  length: number;
  dtype: 'f32' | 'i32' | 'bf16';
}

/** What cudaProbe() says about this machine. */
export interface CudaProbe {
  ok: boolean;
  /** Why CUDA cannot run ('' when ok). */
  reason: string;
  driverVersion: number;
  runtimeVersion: number;
  devices: number;
  device: string;
  memoryBytes: number;
  computeCapability: string;
}

/** Device memory in use, as the addon counts it. */
export interface DeviceMemory {
  liveBytes: number;
  peakBytes: number;
  blocks: number;
  freeBytes: number;
  totalBytes: number;
}

/** The CUDA addon's functions: every op of the CPU addon, over device tensors, and these. */
export interface CudaAddon extends NativeAddon {
  cudaProbe(): CudaProbe;
  deviceAlloc(a: { bytes: number }): bigint;
  deviceFree(a: { address: bigint }): void;
  upload(a: { dst: DeviceRef; src: Float32Array | Int32Array | Uint16Array }): void;
  download(a: { src: DeviceRef; dst: Float32Array | Int32Array | Uint16Array }): void;
  deviceCopy(a: { dst: DeviceRef; src: DeviceRef }): void;
  deviceFill(a: { dst: DeviceRef; value: number }): void;
  synchronize(): void;
  deviceMemory(a: { resetPeak: boolean }): DeviceMemory;
  setMathMode(a: { mode: 'fp32' | 'tf32' }): void;
  argmaxRows(a: { out: DeviceRef; ids: DeviceRef; n: number; l: number }): void;
  gatherRows(a: { out: DeviceRef; x: DeviceRef; index: DeviceRef; n: number; l: number; c: number }): void;
  scatterRows(a: { dx: DeviceRef; rows: DeviceRef; index: DeviceRef; n: number; l: number; c: number; accumulate: boolean }): void;
}

const packageRoot = path.resolve(__dirname, '..', '..');
let loaded: CudaAddon | undefined;

/** Where the CUDA addon is looked for: POSAPL_CUDA_ADDON, a source build, then the prebuilt binary. */
export function cudaAddonCandidates(): string[] {
  const own = process.env.POSAPL_CUDA_ADDON;
  return [
    ...(own ? [path.resolve(own)] : []),
    path.join(packageRoot, 'build-cuda', 'Release', 'posapl_cuda.node'),
    // Beside, not inside, prebuilds/<platform>-<arch>: node-gyp-build must never take it for the CPU addon.
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}-cuda`, 'posapl_cuda.node'),
  ];
}

/**
 * The CUDA addon, loaded and probed on first use. Throws POSAPL_NO_CUDA saying which of these it
 * is: no CUDA binary in this installation, a binary that does not load, no NVIDIA driver, a driver
 * older than the binary's CUDA, no GPU, or a GPU older than compute capability 9.0.
 */
export function cudaAddon(): CudaAddon {
  if (loaded) return loaded;
  const candidates = cudaAddonCandidates();
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw posaplError(
      'POSAPL_NO_CUDA',
      'posapl: device "cuda" needs the CUDA build of the addon, and this installation has none (looked for ' +
        `${candidates.join(', ')}). Build it with "npm run build:cuda" (nvcc 13 and cmake), or use device "cpu".`,
    );
  }
  let addon: CudaAddon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(file) as CudaAddon;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw posaplError('POSAPL_NO_CUDA', `posapl: device "cuda": the CUDA addon ${file} does not load: ${reason}`);
  }
  const probe = addon.cudaProbe();
  if (!probe.ok) throw posaplError('POSAPL_NO_CUDA', `posapl: device "cuda": ${probe.reason}`);
  loaded = addon;
  return addon;
}
