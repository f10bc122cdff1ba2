/**
 * Atomic file writes: everything goes to a temporary file beside the target, which is synced
 * and renamed over the target only when complete. A crash leaves the old file intact, and a
 * reader that has the old file open keeps reading the old bytes.
 */
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as nodePath from 'path';
import { checkpointError, isCheckpointError } from './errors';

/** Sequential writer handed to the producer of a file. */
export class FileSink {
  /** Bytes written so far (the offset of the next write). */
  position = 0;

  constructor(private readonly handle: fsp.FileHandle, private readonly path: string) {}

  /** Appends `bytes` (any typed-array bytes; no copy is made). */
  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      let bytesWritten: number;
      try {
        ({ bytesWritten } = await this.handle.write(bytes, done, Math.min(bytes.length - done, 1 << 28), this.position));
      } catch (cause) {
        throw checkpointError('POSAPL_IO', this.path, `write failed: ${(cause as Error).message}`);
      }
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}

/** Writes `path` through `produce`, atomically (temporary file, fsync, rename). */
export async function writeAtomically(path: string, produce: (sink: FileSink) => Promise<void>): Promise<void> {
  const dir = nodePath.dirname(path);
  const temp = nodePath.join(dir, `.${nodePath.basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fsp.FileHandle;
  try {
    const stat = await fsp.stat(path).catch(() => undefined);
    if (stat && !stat.isFile()) throw new Error('exists and is not a regular file');
    handle = await fsp.open(temp, 'wx', 0o644);
  } catch (cause) {
    throw checkpointError('POSAPL_IO', path, `cannot write: ${(cause as Error).message}`);
  }
  let closed = false;
  try {
    await produce(new FileSink(handle, path));
    await handle.sync();
    await handle.close();
    closed = true;
    await fsp.rename(temp, path);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    if (isCheckpointError(error)) throw error;
    throw checkpointError('POSAPL_IO', path, `cannot write: ${(error as Error).message}`);
  }
}
