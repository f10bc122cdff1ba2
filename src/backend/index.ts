/**
 * The backends the model runs on, chosen by device: the CPU today; 'cuda' is refused with
 * POSAPL_NO_CUDA until its backend lands.
 */
import { posaplError } from '../errors';
import { nativeInfo } from '../native/addon';
import { Backend } from './backend';
import { CpuBackend } from './cpu';
import { Device } from './tensor';

export * from './backend';
export * from './tensor';
export * from './arena';
export { CpuBackend } from './cpu';

/** A new backend for `device`; each model owns one (its allocation counts are the model's). */
export function createBackend(device: Device): Backend {
  if (device === 'cpu') return new CpuBackend();
  const built = nativeInfo().cuda;
  throw posaplError(
    'POSAPL_NO_CUDA',
    built
      ? 'posapl: device "cuda": this binary was built with CUDA but the CUDA backend of the model has not landed yet'
      : 'posapl: device "cuda" needs the CUDA build of the addon (npm run build:cuda on a machine with the CUDA toolkit); this binary is CPU-only',
  );
}
