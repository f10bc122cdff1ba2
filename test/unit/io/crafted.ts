/** Hand-assembled pickles and zips for the refusal and fuzz tests. */
import * as zlib from 'zlib';
import { crc32 } from '../../../src/io/crc32';

/** Concatenates opcodes, bytes and latin1 strings into a pickle. */
export function pickle(...parts: Array<number | string | Uint8Array | number[]>): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

export function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

/** BINUNICODE of `s`. */
export function str(s: string): Buffer {
  return Buffer.concat([Buffer.from([0x58]), u32(Buffer.byteLength(s)), Buffer.from(s)]);
}

/** BININT (or BININT1) of a small non-negative int, LONG1 for larger ones. */
export function int(v: number | bigint): Buffer {
  const n = BigInt(v);
  if (n >= 0n && n < 256n) return Buffer.from([0x4b, Number(n)]);
  const bytes: number[] = [];
  let x = n;
  while (x !== 0n && x !== -1n) {
    bytes.push(Number(x & 0xffn));
    x >>= 8n;
  }
  if ((bytes[bytes.length - 1] & 0x80) !== (n < 0n ? 0x80 : 0)) bytes.push(n < 0n ? 0xff : 0);
  return Buffer.from([0x8a, bytes.length, ...bytes]);
}

/** The pickle of {name: tensor} with one tensor of `storageClass` over storage '0'. */
export function tensorPickle(opts: { numel: number | bigint; shape: number[]; stride: number[]; offset?: number; storageClass?: string }): Buffer {
  const tuple = (values: number[]): Buffer => pickle(0x28, ...values.map((v) => int(v)), 0x74);
  return pickle(
    0x80, 2, 0x7d, // PROTO 2, EMPTY_DICT
    str('w'),
    'ctorch._utils\n_rebuild_tensor_v2\n',
    0x28, 0x28, str('storage'), `ctorch\n${opts.storageClass ?? 'FloatStorage'}\n`, str('0'), str('cpu'), int(opts.numel), 0x74, 0x51,
    int(opts.offset ?? 0), tuple(opts.shape), tuple(opts.stride), 0x89, 0x7d, 0x74, 0x52,
    0x73, 0x2e, // SETITEM STOP
  );
}

export interface CraftedEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Uncompressed size written in the directory (defaults to the true size). */
  declaredSize?: number;
}

/** A minimal zip (no alignment, 32-bit records) with stored or deflated entries. */
export function buildZip(entries: CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const size = e.declaredSize ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(e.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(e.deflate ? 8 : 0, 10);
    c.writeUInt32LE(crc32(e.data), 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A torch-style archive around `dataPkl` and storages. */
export function torchZip(dataPkl: Uint8Array, storages: Record<string, Uint8Array> = {}, deflate = false): Buffer {
  return buildZip([
    { name: 'archive/data.pkl', data: dataPkl, deflate },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data, deflate })),
    { name: 'archive/version', data: Buffer.from('3\n') },
  ]);
}

/** A safetensors file with a given header object and data. */
export function safetensors(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  return Buffer.concat([u64(BigInt(json.length)), json, Buffer.from(data)]);
}
