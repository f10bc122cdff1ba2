/** Loading a state dict from any supported checkpoint file. */
import { CheckpointFile } from './checkpointFile';
import { StateDict } from './dtypes';
import { checkpointError } from './errors';
import { readSafetensors, readSafetensorsMetadata } from './safetensors';
import { stripStateDictPrefixes } from './stateDict';
import { readTorchZip } from './torchReader';

/**
 * Loads the state dict of a checkpoint file, whatever its format (told by its first bytes):
 * - a PyTorch zip checkpoint (`torch.save` since 1.6, e.g. open_clip's
 *   `open_clip_pytorch_model.bin`), unpickled by a restricted reader that refuses any global
 *   or opcode a plain state dict does not need (like torch's `weights_only=True`);
 * - safetensors.
 *
 * A checkpoint that wraps its state dict under `state_dict` or `model` is unwrapped, and a
 * `module.` / `model.` prefix shared by every name is removed. Tensor bytes are read straight
 * into their final arrays; views are copied out contiguous. Names bound to one tensor in the
 * file (tied weights) share one entry.
 *
 * @param path - the checkpoint file.
 * @returns names to tensors, in file order.
 * @throws an Error with `code` POSAPL_IO (cannot read), POSAPL_FORMAT (not a checkpoint,
 *   corrupt or truncated), POSAPL_PICKLE (malformed or refused pickle) or POSAPL_TENSOR
 *   (inconsistent tensor record), its message naming the file and the offending field.
 */
export async function loadStateDict(path: string): Promise<StateDict> {
  if (typeof path !== 'string' || path.length === 0) {
    throw checkpointError('POSAPL_TYPE', undefined, `Expected a file path for path but received ${JSON.stringify(path)}`);
  }
  const file = await CheckpointFile.open(path);
  try {
    const head = await file.read(0, Math.min(9, file.size), 'file signature');
    let stateDict: StateDict;
    if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) {
      stateDict = await readTorchZip(file);
    } else if (head.length === 9 && head[8] === 0x7b /* '{' */) {
      stateDict = await readSafetensors(file);
    } else if (head.length >= 2 && head[0] === 0x80 && head[1] <= 5) {
      throw checkpointError('POSAPL_FORMAT', path, "a bare pickle (torch's legacy pre-1.6 format); re-save it with torch.save from torch >= 1.6");
    } else {
      throw checkpointError(
        'POSAPL_FORMAT',
        path,
        file.size < 9 ? `${file.size} bytes: too short to be a checkpoint (truncated?)` : 'neither a PyTorch zip checkpoint nor safetensors',
      );
    }
    return stripStateDictPrefixes(stateDict);
  } finally {
    await file.close();
  }
}

/**
 * The `__metadata__` strings of a safetensors file ({} when it has none).
 * @throws like {@link loadStateDict}; POSAPL_FORMAT when the file is not safetensors.
 */
export async function loadSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  if (typeof path !== 'string' || path.length === 0) {
    throw checkpointError('POSAPL_TYPE', undefined, `Expected a file path for path but received ${JSON.stringify(path)}`);
  }
  const file = await CheckpointFile.open(path);
  try {
    return await readSafetensorsMetadata(file);
  } finally {
    await file.close();
  }
}
