/**
 * Writes PyTorch zip checkpoints that torch.load (1.13 and 2.x, weights_only=True included)
 * reads back: `archive/data.pkl` (see pickleWriter.ts), `archive/byteorder`, one stored record
 * `archive/data/<k>` per storage, and `archive/version`.
 */
import { FileSink } from './atomicWrite';
import { TensorData, TensorEntry, bytesOf } from './dtypes';
import { PickledTensor, pickleStateDict } from './pickleWriter';
import { Zip64Mode, ZipWriter } from './zipWriter';

const ARCHIVE = 'archive';
// The serialization format version torch has written since 1.6.
const FORMAT_VERSION = '3\n';

/**
 * Writes `entries` (already validated) to `sink`. An entry object listed under several names is
 * pickled once and referenced (tied weights stay tied in torch); distinct entries that hold the
 * same typed array share one storage record.
 */
export async function writeTorchZip(
  sink: FileSink,
  entries: ReadonlyArray<readonly [string, TensorEntry]>,
  zip64: Zip64Mode = 'auto',
): Promise<void> {
  const tensorIndex = new Map<TensorEntry, number>();
  const storageKey = new Map<TensorData, Map<string, string>>();
  const storages: TensorData[] = [];
  const tensors: PickledTensor[] = [];
  const items = entries.map(([name, entry]): [string, number] => {
    let index = tensorIndex.get(entry);
    if (index === undefined) {
      // One storage per (array, dtype): torch cannot load one storage viewed as two dtypes.
      const keys = storageKey.get(entry.data) ?? new Map<string, string>();
      storageKey.set(entry.data, keys);
      let key = keys.get(entry.dtype);
      if (key === undefined) {
        key = String(storages.length);
        keys.set(entry.dtype, key);
        storages.push(entry.data);
      }
      index = tensors.length;
      tensors.push({ storageKey: key, dtype: entry.dtype, shape: entry.shape });
      tensorIndex.set(entry, index);
    }
    return [name, index];
  });
  const zip = new ZipWriter(sink, zip64);
  await zip.add(`${ARCHIVE}/data.pkl`, pickleStateDict(items, tensors));
  await zip.add(`${ARCHIVE}/byteorder`, Buffer.from('little'));
  for (let k = 0; k < storages.length; k++) await zip.add(`${ARCHIVE}/data/${k}`, bytesOf(storages[k]));
  await zip.add(`${ARCHIVE}/version`, Buffer.from(FORMAT_VERSION));
  await zip.finish();
}
