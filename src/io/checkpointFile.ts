/**
 * Positional reads from an open checkpoint file. Tensor bytes are read straight into their final
 * typed arrays, so a large file is never held twice in memory.
 */
import { promises as fsp } from 'fs';
import { checkpointError } from './errors';

// One read call moves at most this much (the OS caps single reads near 2 GiB).
const MAX_READ = 1 << 28;

/** An open file, its size and the path used in error messages. */
export class CheckpointFile {
  private constructor(
    private readonly handle: fsp.FileHandle,
    /** File size in bytes. */
    readonly size: number,
    /** The path as given, used in every error message. */
    readonly path: string,
  ) {}

  /** Opens `path` for reading; failures become POSAPL_IO errors naming the path. */
  static async open(path: string): Promise<CheckpointFile> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (cause) {
      throw checkpointError('POSAPL_IO', path, `cannot open: ${(cause as Error).message}`);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw checkpointError('POSAPL_IO', path, 'not a regular file');
      return new CheckpointFile(handle, stat.size, path);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Fills `target` with the bytes at [position, position + target.length). `what` names the
   * field or tensor for the error raised when the file ends early.
   */
  async readInto(target: Uint8Array, position: number, what: string): Promise<void> {
    if (position < 0 || position + target.length > this.size) {
      throw checkpointError(
        'POSAPL_FORMAT',
        this.path,
        `${what} lies at bytes ${position}..${position + target.length} but the file has ${this.size} bytes (truncated?)`,
      );
    }
    let done = 0;
    while (done < target.length) {
      const length = Math.min(MAX_READ, target.length - done);
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(target, done, length, position + done));
      } catch (cause) {
        throw checkpointError('POSAPL_IO', this.path, `reading ${what}: ${(cause as Error).message}`);
      }
      if (bytesRead === 0) {
        throw checkpointError('POSAPL_FORMAT', this.path, `${what}: file ended at byte ${position + done} (truncated?)`);
      }
      done += bytesRead;
    }
  }

  /** A fresh Buffer with `length` bytes from `position`. */
  async read(position: number, length: number, what: string): Promise<Buffer> {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw checkpointError(
        'POSAPL_FORMAT',
        this.path,
        `${what} lies at bytes ${position}..${position + length} but the file has ${this.size} bytes (truncated?)`,
      );
    }
    const buffer = Buffer.alloc(length);
    await this.readInto(buffer, position, what);
    return buffer;
  }

  /** Closes the file; safe to call once the reads are done or have failed. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
