/**
 * Reads PyTorch zip checkpoints (what torch.save writes since 1.6): `<archive>/data.pkl`
 * through the restricted unpickler, then each tensor's bytes from `<archive>/data/<key>`,
 * honouring storage offsets, strides, storages shared between tensors and the byte order
 * recorded in `<archive>/byteorder`.
 */
import * as os from 'os';
import { CheckpointFile } from './checkpointFile';
import { StateDict, TensorEntry, allocateTensorData, bytesOf, elementCount, itemSize } from './dtypes';
import { checkpointError } from './errors';
import { StorageRef, TensorRef, unpickleStateDict } from './pickleReader';
import { findStateDict } from './stateDict';
import { gatherStrided, isContiguous, viewExtent } from './stridedView';
import { ZipEntry, ZipReader } from './zipReader';

// Bytes that the views of a checkpoint may materialise: this many times their storages, plus slack.
const MAX_EXPANSION = 4;
const EXPANSION_SLACK = 64 << 20;
// data.pkl of even a very large model is a few MB (ViT-B/32: 30 KB). The bound also caps the
// objects a hostile pickle can make us build (at most one per byte).
const MAX_PICKLE_BYTES = 16 << 20;

/** Reverses the bytes of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** The archive folder (`archive/`, or the file's stem for torch 1.x) holding data.pkl. */
function findPickle(zip: ZipReader, path: string): { prefix: string; pickle: ZipEntry } {
  const pickles = [...zip.entries.values()].filter((e) => /^[^/]*\/data\.pkl$/.test(e.name) || e.name === 'data.pkl');
  if (pickles.length === 1) {
    const name = pickles[0].name;
    return { prefix: name.slice(0, name.length - 'data.pkl'.length), pickle: pickles[0] };
  }
  if (pickles.length > 1) {
    throw checkpointError('POSAPL_FORMAT', path, `zip holds several pickles (${pickles.map((e) => e.name).join(', ')})`);
  }
  const torchScript = [...zip.entries.keys()].some((n) => n.endsWith('constants.pkl'));
  throw checkpointError(
    'POSAPL_FORMAT',
    path,
    torchScript ? 'a TorchScript archive, not a saved state dict' : 'zip has no data.pkl: not a PyTorch checkpoint',
  );
}

async function readByteOrder(zip: ZipReader, prefix: string, path: string): Promise<'little' | 'big'> {
  const entry = zip.entries.get(`${prefix}byteorder`);
  // Files from torch before 2.0 have no byteorder record and are little-endian.
  if (!entry) return 'little';
  const text = (await zip.readEntry(entry, 16)).toString('latin1');
  if (text !== 'little' && text !== 'big') {
    throw checkpointError('POSAPL_FORMAT', path, `byteorder record says '${text}', not 'little' or 'big'`);
  }
  return text;
}

/**
 * Refuses views that would materialise far more bytes than their storages hold: each view is
 * copied out, so thousands of overlapping views of one storage could turn a small file into
 * gigabytes. Real state dicts stay within 2x (a weight and its transpose).
 */
function checkExpansion(byStorage: Map<StorageRef, TensorRef[]>, path: string): void {
  let stored = 0;
  let materialised = 0;
  for (const [storage, views] of byStorage) {
    const size = itemSize(storage.dtype);
    stored += storage.numel * size;
    for (const view of views) materialised += Math.min(elementCount(view.shape), storage.numel) * size;
  }
  const limit = MAX_EXPANSION * stored + EXPANSION_SLACK;
  if (materialised > limit) {
    throw checkpointError(
      'POSAPL_TENSOR',
      path,
      `its tensors are views needing ${materialised} bytes, more than ${MAX_EXPANSION} x the ${stored} bytes of their storages (+${EXPANSION_SLACK})`,
    );
  }
}

/** Reads the state dict of the PyTorch zip checkpoint open as `file`. */
export async function readTorchZip(file: CheckpointFile): Promise<StateDict> {
  const path = file.path;
  const zip = await ZipReader.open(file);
  const { prefix, pickle } = findPickle(zip, path);
  const byteOrder = await readByteOrder(zip, prefix, path);
  if (os.endianness() !== 'LE') {
    throw checkpointError('POSAPL_FORMAT', path, 'reading checkpoints on a big-endian host is not supported');
  }
  const root = unpickleStateDict(await zip.readEntry(pickle, MAX_PICKLE_BYTES), path);
  const pairs = findStateDict(root, path);

  // Identical views of one storage are one tensor: torch's state_dict() pickles tied weights
  // (the POSAPL per-block adapter aliases) as separate detached views of the same storage.
  const canonical = new Map<StorageRef, Map<string, TensorRef>>();
  const unique = (ref: TensorRef): TensorRef => {
    const views = canonical.get(ref.storage) ?? new Map<string, TensorRef>();
    canonical.set(ref.storage, views);
    const key = `${ref.offset}:${ref.shape.join(',')}:${ref.stride.join(',')}`;
    const known = views.get(key);
    if (known) return known;
    views.set(key, ref);
    return ref;
  };
  const tensors: Array<[string, TensorRef]> = pairs.map(([name, ref]) => [name, unique(ref)]);
  // Tensors grouped by storage, so that a deflated storage is inflated once for all its views.
  const byStorage = new Map<StorageRef, TensorRef[]>();
  for (const [storage, views] of canonical) byStorage.set(storage, [...views.values()]);
  const names = new Map<TensorRef, string>();
  for (const [name, ref] of tensors) if (!names.has(ref)) names.set(ref, name);
  checkExpansion(byStorage, path);

  const loaded = new Map<TensorRef, TensorEntry>();
  for (const [storage, views] of byStorage) {
    const size = itemSize(storage.dtype);
    const entry = zip.entries.get(`${prefix}data/${storage.key}`);
    const firstName = names.get(views[0]) as string;
    if (!entry) {
      throw checkpointError('POSAPL_TENSOR', path, `tensor '${firstName}': storage record '${prefix}data/${storage.key}' is missing`);
    }
    if (entry.size !== storage.numel * size) {
      throw checkpointError(
        'POSAPL_TENSOR',
        path,
        `tensor '${firstName}': storage '${storage.key}' should hold ${storage.numel} x ${storage.dtype} = ${storage.numel * size} bytes but its record has ${entry.size}`,
      );
    }
    const inflated = entry.method === 0 ? undefined : await zip.readEntry(entry, entry.size);
    const dataOffset = entry.method === 0 ? await zip.dataOffset(entry) : 0;
    for (const view of views) {
      const name = names.get(view) as string;
      const extent = viewExtent(view, storage.numel);
      if (typeof extent === 'string') throw checkpointError('POSAPL_TENSOR', path, `tensor '${name}': ${extent}`);
      const data = allocateTensorData(storage.dtype, extent.numel, path, name);
      const target = bytesOf(data);
      if (extent.numel > 0) {
        const spanBytes = (extent.last - extent.first + 1) * size;
        if (inflated) {
          gatherStrided(inflated.subarray(extent.first * size, extent.first * size + spanBytes), extent.first, target, view, size);
        } else if (isContiguous(view)) {
          await zip.readStored(entry, dataOffset, extent.first * size, target, `tensor '${name}'`);
        } else {
          const span = Buffer.alloc(spanBytes);
          await zip.readStored(entry, dataOffset, extent.first * size, span, `tensor '${name}'`);
          gatherStrided(span, extent.first, target, view, size);
        }
        if (byteOrder === 'big') swapBytes(target, size);
      }
      loaded.set(view, { dtype: storage.dtype, shape: [...view.shape], data } as TensorEntry);
    }
  }
  // Names of one tensor share one entry, as they share one storage in torch.
  return new Map(tensors.map(([name, ref]) => [name, loaded.get(ref) as TensorEntry]));
}
