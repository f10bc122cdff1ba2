/**
 * Zip writer for PyTorch checkpoints: stored (uncompressed) entries whose data start on
 * 64-byte boundaries, as torch writes them (so the file can be memory-mapped), with ZIP64
 * records when sizes or offsets pass 4 GiB. Deterministic: no timestamps, so the same
 * tensors always give the same bytes.
 */
import { FileSink } from './atomicWrite';
import { crc32 } from './crc32';

const ALIGNMENT = 64;
const MAX32 = 0xffffffff;
// Entries carry a fixed DOS date (1980-01-01 00:00) so that output is reproducible.
const DOS_DATE = (1 << 5) | 1;

/** How the zip uses ZIP64 records. */
export type Zip64Mode =
  /** Only where a size, offset or count needs it (files over 4 GiB). */
  | 'auto'
  /** On every entry and at the end (to exercise readers on small files). */
  | 'always';

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

/** Streams entries into `sink`, then writes the central directory on {@link finish}. */
export class ZipWriter {
  private readonly written: Written[] = [];

  constructor(private readonly sink: FileSink, private readonly zip64: Zip64Mode = 'auto') {}

  /** Appends a stored entry `name` holding `data`. */
  async add(name: string, data: Uint8Array): Promise<void> {
    const nameBytes = Buffer.from(name, 'utf8');
    const offset = this.sink.position;
    const crc = crc32(data);
    const wide = this.zip64 === 'always' || data.length >= MAX32;
    const zip64Extra = wide ? Buffer.concat([Buffer.from([1, 0, 16, 0]), u64(data.length), u64(data.length)]) : Buffer.alloc(0);
    // The padding field ('FB', filled with 'Z', as torch writes it) moves the data to the next boundary.
    const unpadded = offset + 30 + nameBytes.length + zip64Extra.length + 4;
    const pad = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    const padding = Buffer.alloc(4 + pad, 0x5a);
    padding.writeUInt16LE(0x4246, 0);
    padding.writeUInt16LE(pad, 2);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(wide ? 45 : 20, 4); // version needed
    header.writeUInt16LE(0, 6); // flags
    header.writeUInt16LE(0, 8); // stored
    header.writeUInt16LE(0, 10); // time
    header.writeUInt16LE(DOS_DATE, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(wide ? MAX32 : data.length, 18);
    header.writeUInt32LE(wide ? MAX32 : data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(zip64Extra.length + padding.length, 28);
    await this.sink.write(Buffer.concat([header, nameBytes, zip64Extra, padding]));
    await this.sink.write(data);
    this.written.push({ name: nameBytes, crc, size: data.length, offset });
  }

  /** Writes the central directory and end records. */
  async finish(): Promise<void> {
    const always = this.zip64 === 'always';
    const cdOffset = this.sink.position;
    const records: Buffer[] = [];
    for (const e of this.written) {
      const wideSize = always || e.size >= MAX32;
      const wideOffset = always || e.offset >= MAX32;
      const fields = [...(wideSize ? [u64(e.size), u64(e.size)] : []), ...(wideOffset ? [u64(e.offset)] : [])];
      const extra = fields.length ? Buffer.concat([Buffer.from([1, 0, fields.length * 8, 0]), ...fields]) : Buffer.alloc(0);
      const r = Buffer.alloc(46);
      r.writeUInt32LE(0x02014b50, 0);
      r.writeUInt16LE(fields.length ? 45 : 20, 4); // version made by
      r.writeUInt16LE(fields.length ? 45 : 20, 6); // version needed
      r.writeUInt16LE(0, 8);
      r.writeUInt16LE(0, 10);
      r.writeUInt16LE(0, 12);
      r.writeUInt16LE(DOS_DATE, 14);
      r.writeUInt32LE(e.crc, 16);
      r.writeUInt32LE(wideSize ? MAX32 : e.size, 20);
      r.writeUInt32LE(wideSize ? MAX32 : e.size, 24);
      r.writeUInt16LE(e.name.length, 28);
      r.writeUInt16LE(extra.length, 30);
      r.writeUInt32LE(wideOffset ? MAX32 : e.offset, 42);
      records.push(r, e.name, extra);
    }
    const cd = Buffer.concat(records);
    await this.sink.write(cd);
    const count = this.written.length;
    const wideEnd = always || count >= 0xffff || cd.length >= MAX32 || cdOffset >= MAX32;
    if (wideEnd) {
      const zip64EndOffset = this.sink.position;
      const end64 = Buffer.alloc(56);
      end64.writeUInt32LE(0x06064b50, 0);
      end64.writeBigUInt64LE(44n, 4); // size of the rest of this record
      end64.writeUInt16LE(45, 12);
      end64.writeUInt16LE(45, 14);
      end64.writeBigUInt64LE(BigInt(count), 24);
      end64.writeBigUInt64LE(BigInt(count), 32);
      end64.writeBigUInt64LE(BigInt(cd.length), 40);
      end64.writeBigUInt64LE(BigInt(cdOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(zip64EndOffset), 8);
      locator.writeUInt32LE(1, 16); // total disks
      await this.sink.write(Buffer.concat([end64, locator]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(wideEnd ? 0xffff : count, 8);
    end.writeUInt16LE(wideEnd ? 0xffff : count, 10);
    end.writeUInt32LE(wideEnd ? MAX32 : cd.length, 12);
    end.writeUInt32LE(wideEnd ? MAX32 : cdOffset, 16);
    await this.sink.write(end);
  }
}
