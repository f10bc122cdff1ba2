/** Saving a state dict as safetensors or as a PyTorch checkpoint. */
import * as os from 'os';
import { writeAtomically } from './atomicWrite';
import { StateDict, TensorEntry, elementCount, isArrayOf, isDType } from './dtypes';
import { checkpointError } from './errors';
import { writeSafetensors } from './safetensors';
import { writeTorchZip } from './torchWriter';
import { Zip64Mode } from './zipWriter';

/** Options of {@link saveStateDict}. */
export interface SaveStateDictOptions {
  /** `safetensors`, or `torch` for the zip format `torch.load` reads. */
  format: 'safetensors' | 'torch';
  /** safetensors `__metadata__` (strings only); defaults to `{ format: 'pt' }`, which transformers expects. */
  metadata?: Record<string, string>;
  /** torch format: when to write ZIP64 records; `auto` (default) only where over 4 GiB. */
  zip64?: Zip64Mode;
}

function typeError(message: string): Error {
  return checkpointError('POSAPL_TYPE', undefined, message);
}

function validateEntry(name: string, entry: TensorEntry, format: SaveStateDictOptions['format']): void {
  if (typeof name !== 'string' || name.length === 0) throw typeError(`Expected a non-empty string for a tensor name but received ${JSON.stringify(name)}`);
  if (format === 'safetensors' && name === '__metadata__') throw typeError(`Expected a tensor name other than '__metadata__' for safetensors`);
  if (!entry || !isDType(entry.dtype)) throw typeError(`Expected a supported dtype for '${name}'.dtype but received ${JSON.stringify(entry?.dtype)}`);
  const shape = entry.shape as unknown;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw typeError(`Expected an array of non-negative integers for '${name}'.shape but received ${JSON.stringify(shape)}`);
  }
  if (!isArrayOf(entry.dtype, entry.data)) {
    throw typeError(`Expected the typed array of ${entry.dtype} for '${name}'.data but received ${Object.prototype.toString.call(entry.data)}`);
  }
  if (entry.data.length !== elementCount(entry.shape)) {
    const error = checkpointError(
      'POSAPL_SHAPE',
      undefined,
      `Expected ${elementCount(entry.shape)} elements (shape [${entry.shape.join(', ')}]) for '${name}'.data but received ${entry.data.length}`,
    );
    throw error;
  }
}

/**
 * Writes a state dict to `path`, atomically: a temporary file beside it is written, synced and
 * renamed over `path`, so that neither a crash nor saving over the checkpoint being read can
 * leave a half-written file.
 *
 * - `torch`: the PyTorch zip format that `torch.load` (1.13 and 2.x, also with
 *   `weights_only=True`) reads; one entry object under several names stays one tensor there.
 * - `safetensors`: loadable by the safetensors libraries.
 *
 * @throws POSAPL_TYPE / POSAPL_SHAPE for a malformed entry (naming it), POSAPL_IO when the file
 *   cannot be written.
 */
export async function saveStateDict(
  path: string,
  stateDict: StateDict | Iterable<readonly [string, TensorEntry]>,
  options: SaveStateDictOptions,
): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw typeError(`Expected a file path for path but received ${JSON.stringify(path)}`);
  const format = options?.format;
  if (format !== 'safetensors' && format !== 'torch') {
    throw typeError(`Expected 'safetensors' or 'torch' for options.format but received ${JSON.stringify(format)}`);
  }
  const zip64 = options.zip64 ?? 'auto';
  if (zip64 !== 'auto' && zip64 !== 'always') throw typeError(`Expected 'auto' or 'always' for options.zip64 but received ${JSON.stringify(zip64)}`);
  const metadata = options.metadata ?? { format: 'pt' };
  if (typeof metadata !== 'object' || metadata === null || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw typeError(`Expected an object of strings for options.metadata but received ${JSON.stringify(metadata)}`);
  }
  if (os.endianness() !== 'LE') throw checkpointError('POSAPL_IO', path, 'writing checkpoints on a big-endian host is not supported');
  const entries = [...stateDict];
  const seen = new Set<string>();
  for (const [name, entry] of entries) {
    validateEntry(name, entry, format);
    if (seen.has(name)) throw typeError(`Expected unique tensor names but received '${name}' twice`);
    seen.add(name);
  }
  await writeAtomically(path, (sink) => (format === 'torch' ? writeTorchZip(sink, entries, zip64) : writeSafetensors(sink, entries, metadata)));
}
