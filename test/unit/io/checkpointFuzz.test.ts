/**
 * Robustness: thousands of truncated, bit-flipped, overwritten and garbage files, plus zip
 * bombs, deep nesting and huge declared sizes. Every file must either load or throw a coded
 * error naming it, each within a second, and memory must stay bounded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { loadStateDict } from '../../../src/io';
import { crc32 } from '../../../src/io/crc32';
import { rng } from '../../helpers/numeric';
import { buildZip, int, pickle, safetensors, str, tensorPickle, torchZip, u32, u64 } from './crafted';
import { fixture, tempDir } from './checkpointFixtures';

const SEEDS = [
  'basic.pt', 'basic_proto4.pt', 'basic_deflated.pt', 'views.pt', 'shared.pt', 'wrapped_state_dict.pt',
  'bigendian.pt', 'basic.safetensors', 'roundtrip/shared.zip64.pt',
].map((name) => ({ name, bytes: fs.readFileSync(fixture(name)) }));

/** Where the interesting structure is: the pickle of a zip (first entry), the header of safetensors. */
function hotRegion(bytes: Buffer): [number, number] {
  if (bytes.readUInt32LE(0) === 0x04034b50) {
    const start = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
    const end = bytes.indexOf(Buffer.from([0x50, 0x4b]), start + 1);
    return [start, end > start ? end : bytes.length];
  }
  return [0, Math.min(bytes.length, 8 + Number(bytes.readBigUInt64LE(0)))];
}

/**
 * Recomputes the directory CRC of a zip's first entry (data.pkl), so that flips inside the pickle
 * reach the unpickler instead of stopping at the checksum.
 */
function refreshFirstCrc(bytes: Buffer): void {
  const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 5, 6]));
  if (eocd < 0 || eocd + 22 > bytes.length) return;
  const cd = bytes.readUInt32LE(eocd + 16);
  if (cd + 46 > bytes.length || bytes.readUInt32LE(cd) !== 0x02014b50 || bytes.readUInt16LE(cd + 10) !== 0) return;
  const [start] = hotRegion(bytes);
  const size = bytes.readUInt32LE(cd + 20);
  if (start + size <= bytes.length) bytes.writeUInt32LE(crc32(bytes.subarray(start, start + size)), cd + 16);
}

function mutations(count: number): Array<{ label: string; bytes: Uint8Array }> {
  const r = rng(2024);
  const pick = (n: number): number => Math.floor(r() * n);
  const out: Array<{ label: string; bytes: Uint8Array }> = [];
  for (let i = 0; i < count; i++) {
    const seed = SEEDS[i % SEEDS.length];
    const bytes = Buffer.from(seed.bytes);
    const kind = pick(6);
    let label: string;
    if (kind === 0) {
      const at = pick(bytes.length);
      out.push({ label: `${seed.name} truncated at ${at}`, bytes: bytes.subarray(0, at) });
      continue;
    } else if (kind === 1 || kind === 2) {
      const [lo, hi] = kind === 1 ? [0, bytes.length] : hotRegion(bytes);
      const flips = 1 + pick(8);
      for (let f = 0; f < flips; f++) bytes[lo + pick(hi - lo)] ^= 1 << pick(8);
      if (kind === 2 && bytes.readUInt32LE(0) === 0x04034b50) refreshFirstCrc(bytes);
      label = `${seed.name} with ${flips} bit flips ${kind === 2 ? 'in its pickle/header' : ''}`;
    } else if (kind === 3) {
      const at = pick(bytes.length);
      const n = 1 + pick(64);
      for (let k = at; k < Math.min(bytes.length, at + n); k++) bytes[k] = pick(256);
      label = `${seed.name} overwritten at ${at}..${at + n}`;
    } else if (kind === 4) {
      // Extreme values where lengths and counts live.
      const at = pick(bytes.length - 8);
      bytes.writeUInt32LE([0xffffffff, 0x7fffffff, 0x80000000, 0][pick(4)], at);
      label = `${seed.name} with an extreme u32 at ${at}`;
    } else {
      const garbage = Buffer.alloc(pick(4096));
      for (let k = 0; k < garbage.length; k++) garbage[k] = pick(256);
      const prefix = [Buffer.from([0x50, 0x4b, 3, 4]), Buffer.concat([u64(BigInt(pick(5000))), Buffer.from('{')]), Buffer.alloc(0)][pick(3)];
      out.push({ label: `garbage of ${garbage.length} bytes`, bytes: Buffer.concat([prefix, garbage]) });
      continue;
    }
    out.push({ label, bytes });
  }
  return out;
}

function crafted(): Array<{ label: string; bytes: Uint8Array; code: string }> {
  const f32 = new Uint8Array(new Float32Array(6).buffer);
  const deepList = Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(200_000, 0x5d), Buffer.alloc(199_999, 0x61), Buffer.from([0x2e])]);
  const deepMarks = Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(1_000_000, 0x28), Buffer.from([0x4e, 0x2e])]);
  const manyMemo = Buffer.concat([Buffer.from([0x80, 4, 0x4e]), Buffer.alloc(1_000_000, 0x94), Buffer.from([0x2e])]);
  const zip64Locator = (() => {
    // A zip64 locator pointing at an end record that claims 2^60 bytes of central directory.
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(1n << 60n, 40);
    const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(0n), u32(1)]);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    return Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), record, locator, end]);
  })();
  const eocdManyEntries = (() => {
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(0xffff, 10);
    end.writeUInt32LE(100, 12);
    return Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4]), Buffer.alloc(200), end]);
  })();
  const manyViews = (() => {
    // 3000 distinct views of one 64K-element storage: 768 MB to materialise from a 300 KB file.
    const n = 1 << 16;
    const parts: Buffer[] = [pickle(0x80, 2, 0x7d, 0x28)];
    for (let v = 0; v < 3000; v++) {
      parts.push(str(`v${v}`), pickle('ctorch._utils\n_rebuild_tensor_v2\n', 0x28, 0x28, str('storage'), 'ctorch\nFloatStorage\n',
        str('0'), str('cpu'), int(n), 0x74, 0x51, int(v), int(n - v), 0x85, int(1), 0x85, 0x89, 0x7d, 0x74, 0x52));
    }
    parts.push(pickle(0x75, 0x2e));
    return torchZip(Buffer.concat(parts), { 0: new Uint8Array(4 * n) });
  })();
  return [
    { label: '3000 overlapping views of one storage', code: 'POSAPL_TENSOR', bytes: manyViews },
    { label: 'zip bomb: data.pkl declares 1 KB, inflates to 64 MB', code: 'POSAPL_FORMAT',
      bytes: buildZip([{ name: 'a/data.pkl', data: Buffer.alloc(64 << 20), deflate: true, declaredSize: 1024 }]) },
    { label: 'zip bomb: storage declares 4 GB from a few bytes', code: 'POSAPL_FORMAT',
      bytes: buildZip([{ name: 'archive/data.pkl', data: tensorPickle({ numel: 2 ** 30 - 1, shape: [2 ** 30 - 1], stride: [1] }) },
        { name: 'archive/data/0', data: Buffer.alloc(16), deflate: true, declaredSize: 2 ** 32 - 4 }]) },
    { label: 'zip bomb: data.pkl declares 4 GB', code: 'POSAPL_FORMAT',
      bytes: buildZip([{ name: 'a/data.pkl', data: Buffer.alloc(100), deflate: true, declaredSize: 0xfffffff0 }]) },
    { label: 'pickle nested 200,000 lists deep', code: 'POSAPL_TENSOR', bytes: torchZip(deepList) },
    { label: 'pickle with a million MARKs', code: 'POSAPL_TENSOR', bytes: torchZip(deepMarks) },
    { label: 'pickle with a million memo entries', code: 'POSAPL_TENSOR', bytes: torchZip(manyMemo) },
    { label: 'storage of 2^50 elements', code: 'POSAPL_TENSOR', bytes: torchZip(tensorPickle({ numel: 2n ** 50n, shape: [6], stride: [1] }), { 0: f32 }) },
    { label: 'storage of 2^70 elements', code: 'POSAPL_PICKLE', bytes: torchZip(tensorPickle({ numel: 2n ** 70n, shape: [6], stride: [1] }), { 0: f32 }) },
    { label: 'tensor of 2^40 x 2^40 elements', code: 'POSAPL_TENSOR', bytes: torchZip(tensorPickle({ numel: 6, shape: [2 ** 40, 2 ** 40], stride: [1, 1] }), { 0: f32 }) },
    { label: 'tensor with a huge stride', code: 'POSAPL_TENSOR', bytes: torchZip(tensorPickle({ numel: 6, shape: [2, 3], stride: [2 ** 52, 1] }), { 0: f32 }) },
    { label: 'tensor with a huge offset', code: 'POSAPL_TENSOR', bytes: torchZip(tensorPickle({ numel: 6, shape: [6], stride: [1], offset: 2 ** 50 }), { 0: f32 }) },
    { label: 'BINUNICODE8 of 2^63 bytes', code: 'POSAPL_PICKLE', bytes: torchZip(pickle(0x80, 4, 0x8d, u64(2n ** 63n), 0x2e)) },
    { label: 'LONG4 of 2^31 bytes', code: 'POSAPL_PICKLE', bytes: torchZip(pickle(0x80, 2, 0x8b, u32(0x7fffffff), 0x2e)) },
    { label: 'zip64 central directory of 2^60 bytes', code: 'POSAPL_FORMAT', bytes: zip64Locator },
    { label: 'zip end record claiming 65535 entries in 100 bytes', code: 'POSAPL_FORMAT', bytes: eocdManyEntries },
    { label: 'safetensors header length 2^63', code: 'POSAPL_FORMAT', bytes: Buffer.concat([u64(2n ** 63n), Buffer.from('{}')]) },
    { label: 'safetensors header of 17 MiB', code: 'POSAPL_FORMAT', bytes: Buffer.concat([u64(17n << 20n), Buffer.from('{'), Buffer.alloc(17 << 20, 0x20)]) },
    { label: 'safetensors tensor of 10^15 elements', code: 'POSAPL_FORMAT',
      bytes: safetensors({ w: { dtype: 'F32', shape: [1e15], data_offsets: [0, 4e15] } }) },
    { label: 'safetensors offsets overlapping', code: 'POSAPL_FORMAT',
      bytes: safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)) },
    { label: 'safetensors header nested a million arrays deep', code: 'POSAPL_FORMAT',
      bytes: Buffer.concat([u64(2_000_000n), Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000))]) },
    { label: 'safetensors unknown dtype', code: 'POSAPL_FORMAT', bytes: safetensors({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)) },
    { label: 'state dict value that is not a tensor', code: 'POSAPL_TENSOR', bytes: torchZip(pickle(0x80, 2, 0x7d, str('w'), int(3), 0x73, 0x2e)) },
  ];
}

describe('fuzzed and hostile checkpoints', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  async function attempt(bytes: Uint8Array): Promise<{ ms: number; error?: { code?: string; message: string } }> {
    const file = path.join(tmp.dir, 'fuzz.bin');
    fs.writeFileSync(file, bytes);
    const start = performance.now();
    try {
      await loadStateDict(file);
      return { ms: performance.now() - start };
    } catch (e) {
      return { ms: performance.now() - start, error: e as { code?: string; message: string } };
    }
  }

  it('3000 mutated files each load or fail with a coded error naming the file, within a second', async () => {
    const file = path.join(tmp.dir, 'fuzz.bin');
    const rssBefore = process.resourceUsage().maxRSS;
    let loaded = 0;
    let slowest = 0;
    const codes = new Map<string, number>();
    for (const { label, bytes } of mutations(3000)) {
      const { ms, error } = await attempt(bytes);
      slowest = Math.max(slowest, ms);
      if (ms > 1000) throw new Error(`${label}: took ${ms} ms`);
      if (!error) {
        loaded++;
        continue;
      }
      if (!error.code?.startsWith('POSAPL_') || !error.message.startsWith(`${file}: `)) {
        throw new Error(`${label}: uncoded or unnamed error: ${error.code} ${error.message}`);
      }
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    }
    // The mutations must reach every layer: zip, pickle, tensors; and some files must still load.
    expect(loaded).toBeGreaterThan(100);
    for (const code of ['POSAPL_FORMAT', 'POSAPL_PICKLE', 'POSAPL_TENSOR']) expect(codes.get(code) ?? 0).toBeGreaterThan(20);
    expect(slowest).toBeLessThan(1000);
    expect(process.resourceUsage().maxRSS - rssBefore).toBeLessThan(256 * 1024); // KiB
  });

  it.each(crafted().map((c) => [c.label, c] as const))('%s: refused with the right code, promptly, without a huge allocation', async (_, c) => {
    const rssBefore = process.resourceUsage().maxRSS;
    const { ms, error } = await attempt(c.bytes);
    expect(error?.code).toBe(c.code);
    expect(ms).toBeLessThan(1000);
    expect(process.resourceUsage().maxRSS - rssBefore).toBeLessThan(256 * 1024);
  });
});
