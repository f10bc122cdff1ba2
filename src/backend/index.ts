/**
 * The backends the model runs on, chosen by device: 'cpu' (the CPU addon) or 'cuda' (the CUDA
 * addon, loaded on first use; POSAPL_NO_CUDA says why where it cannot run).
 */
import { Backend } from './backend';
import { CpuBackend } from './cpu';
import { CudaBackend } from './cuda';
import { Device } from './tensor';

export * from './backend';
export * from './tensor';
export * from './arena';
export { CpuBackend } from './cpu';
export { CudaBackend } from './cuda';

/** A new backend for `device`; each model owns one (its allocation counts are the model's). */
export function createBackend(device: Device): Backend {
  return device === 'cuda' ? new CudaBackend() : new CpuBackend();
}
