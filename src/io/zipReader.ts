/**
 * Zip reader for checkpoints: the central directory (ZIP64 included), stored and deflated
 * entries. Sizes come from the central directory, since torch writes its local headers with
 * data descriptors and zeroed sizes.
 */
import * as zlib from 'zlib';
import { CheckpointFile } from './checkpointFile';
import { crc32 } from './crc32';
import { checkpointError } from './errors';

/** One member of the archive, as the central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; anything else is refused when read. */
  method: number;
  crc32: number;
  compressedSize: number;
  /** Uncompressed size. */
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
// The central directory of a state dict is small; this bounds what a corrupt header can make us read.
const MAX_CENTRAL_DIRECTORY = 64 << 20;
// Deflate cannot expand beyond about 1032:1, so larger declared sizes are lies.
const MAX_DEFLATE_RATIO = 1032;

function u64(buffer: Buffer, offset: number, file: string, field: string): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw checkpointError('POSAPL_FORMAT', file, `zip ${field} ${value} is beyond any real file size`);
  }
  return Number(value);
}

/** An opened zip archive: its entries by name, and reads of their data. */
export class ZipReader {
  private constructor(
    private readonly file: CheckpointFile,
    /** Entries by name. */
    readonly entries: Map<string, ZipEntry>,
    /** Where the central directory starts: no entry data may reach past it. */
    private readonly dataEnd: number,
  ) {}

  /** Reads the end records and the central directory of `file`. */
  static async open(file: CheckpointFile): Promise<ZipReader> {
    const path = file.path;
    const tailLength = Math.min(file.size, 22 + 0xffff);
    const tail = await file.read(file.size - tailLength, tailLength, 'zip end record');
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + 22 + tail.readUInt16LE(i + 20) <= tailLength) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw checkpointError('POSAPL_FORMAT', path, 'no zip end-of-central-directory record (truncated or not a zip)');
    const eocdPosition = file.size - tailLength + eocd;
    if (tail.readUInt16LE(eocd + 4) !== 0 || tail.readUInt16LE(eocd + 6) !== 0) {
      throw checkpointError('POSAPL_FORMAT', path, 'multi-disk zip archives are not supported');
    }
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    let cdLimit = eocdPosition;
    if (eocdPosition >= 20) {
      const locator = await file.read(eocdPosition - 20, 20, 'zip64 locator');
      if (locator.readUInt32LE(0) === ZIP64_LOCATOR_SIGNATURE) {
        const zip64Position = u64(locator, 8, path, 'zip64 record offset');
        if (zip64Position + 56 > eocdPosition - 20) {
          throw checkpointError('POSAPL_FORMAT', path, `zip64 end record offset ${zip64Position} is out of place`);
        }
        const record = await file.read(zip64Position, 56, 'zip64 end record');
        if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
          throw checkpointError('POSAPL_FORMAT', path, 'zip64 end record signature is wrong');
        }
        count = u64(record, 32, path, 'entry count');
        cdSize = u64(record, 40, path, 'central directory size');
        cdOffset = u64(record, 48, path, 'central directory offset');
        cdLimit = zip64Position;
      }
    }
    if (cdOffset + cdSize > cdLimit) {
      throw checkpointError('POSAPL_FORMAT', path, `central directory at ${cdOffset} (+${cdSize}) overruns the end record at ${cdLimit}`);
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY) {
      throw checkpointError('POSAPL_FORMAT', path, `central directory of ${cdSize} bytes exceeds the ${MAX_CENTRAL_DIRECTORY}-byte limit`);
    }
    if (count * 46 > cdSize) {
      throw checkpointError('POSAPL_FORMAT', path, `zip declares ${count} entries but its central directory has only ${cdSize} bytes`);
    }
    const cd = await file.read(cdOffset, cdSize, 'zip central directory');
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdSize || cd.readUInt32LE(p) !== CENTRAL_SIGNATURE) {
        throw checkpointError('POSAPL_FORMAT', path, `central directory entry ${i} is malformed`);
      }
      const flags = cd.readUInt16LE(p + 8);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const end = p + 46 + nameLength + extraLength + commentLength;
      if (end > cdSize) throw checkpointError('POSAPL_FORMAT', path, `central directory entry ${i} overruns the directory`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      if (flags & 1) throw checkpointError('POSAPL_FORMAT', path, `zip entry '${name}' is encrypted`);
      const entry: ZipEntry = {
        name,
        method: cd.readUInt16LE(p + 10),
        crc32: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
      };
      readZip64Extra(cd, p + 46 + nameLength, extraLength, entry, path);
      if (entries.has(name)) throw checkpointError('POSAPL_FORMAT', path, `zip entry '${name}' appears twice`);
      entries.set(name, entry);
      p = end;
    }
    return new ZipReader(file, entries, cdOffset);
  }

  /** Offset of the entry's data, from its local header (whose extra field may differ from the directory's). */
  async dataOffset(entry: ZipEntry): Promise<number> {
    const header = await this.file.read(entry.localHeaderOffset, 30, `local header of '${entry.name}'`);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
      throw checkpointError('POSAPL_FORMAT', this.file.path, `zip entry '${entry.name}' has no local header at ${entry.localHeaderOffset}`);
    }
    const nameLength = header.readUInt16LE(26);
    const start = entry.localHeaderOffset + 30 + nameLength + header.readUInt16LE(28);
    if (start + entry.compressedSize > this.dataEnd) {
      throw checkpointError(
        'POSAPL_FORMAT',
        this.file.path,
        `zip entry '${entry.name}' (${entry.compressedSize} bytes at ${start}) runs past the archive data`,
      );
    }
    return start;
  }

  /**
   * The whole uncompressed entry, CRC-checked. `maxSize` bounds what a corrupt or hostile
   * directory can make us allocate.
   */
  async readEntry(entry: ZipEntry, maxSize: number): Promise<Buffer> {
    const path = this.file.path;
    if (entry.size > maxSize) {
      throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' declares ${entry.size} bytes, more than the ${maxSize} allowed`);
    }
    const raw = await this.readRaw(entry);
    const data = entry.method === 0 ? raw : inflate(raw, entry, path);
    if (crc32(data) !== entry.crc32) {
      throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' fails its CRC-32 check (corrupt file)`);
    }
    return data;
  }

  /**
   * Copies bytes [from, from + target.length) of a stored entry into `target` without
   * staging them. Not CRC-checked: checking would mean reading whole storages twice.
   */
  async readStored(entry: ZipEntry, dataOffset: number, from: number, target: Uint8Array, what: string): Promise<void> {
    if (from + target.length > entry.size) {
      throw checkpointError('POSAPL_TENSOR', this.file.path, `${what} reads bytes ${from}..${from + target.length} of '${entry.name}', which has ${entry.size}`);
    }
    await this.file.readInto(target, dataOffset + from, what);
  }

  private async readRaw(entry: ZipEntry): Promise<Buffer> {
    const path = this.file.path;
    if (entry.method === 0 && entry.compressedSize !== entry.size) {
      throw checkpointError('POSAPL_FORMAT', path, `stored zip entry '${entry.name}' has sizes ${entry.compressedSize} != ${entry.size}`);
    }
    if (entry.method !== 0 && entry.method !== 8) {
      throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' uses compression method ${entry.method}; only stored and deflated are supported`);
    }
    if (entry.method === 8 && entry.size > entry.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw checkpointError(
        'POSAPL_FORMAT',
        path,
        `zip entry '${entry.name}' declares ${entry.size} bytes from ${entry.compressedSize} compressed, beyond what deflate can produce`,
      );
    }
    const offset = await this.dataOffset(entry);
    return this.file.read(offset, entry.compressedSize, `data of '${entry.name}'`);
  }
}

function inflate(raw: Buffer, entry: ZipEntry, path: string): Buffer {
  let data: Buffer;
  try {
    // maxOutputLength stops a bomb that understates its size as soon as it overruns.
    data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
  } catch (cause) {
    const reason = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ? `inflates to more than its declared ${entry.size} bytes`
      : `does not inflate: ${(cause as Error).message}`;
    throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' ${reason}`);
  }
  if (data.length !== entry.size) {
    throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' inflates to ${data.length} bytes, not its declared ${entry.size}`);
  }
  return data;
}

/** Replaces the 0xFFFFFFFF placeholders of `entry` with the values of its ZIP64 extra field. */
function readZip64Extra(cd: Buffer, start: number, length: number, entry: ZipEntry, path: string): void {
  const needs = entry.size === 0xffffffff || entry.compressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff;
  let p = start;
  const end = start + length;
  while (p + 4 <= end) {
    const id = cd.readUInt16LE(p);
    const size = cd.readUInt16LE(p + 2);
    if (p + 4 + size > end) break;
    if (id === ZIP64_EXTRA_ID) {
      let q = p + 4;
      const take = (field: string): number => {
        if (q + 8 > p + 4 + size) throw checkpointError('POSAPL_FORMAT', path, `zip64 field of '${entry.name}' lacks its ${field}`);
        const value = u64(cd, q, path, field);
        q += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = take('size');
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = take('compressed size');
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = take('header offset');
      return;
    }
    p += 4 + size;
  }
  if (needs) throw checkpointError('POSAPL_FORMAT', path, `zip entry '${entry.name}' needs a zip64 field but has none`);
}
