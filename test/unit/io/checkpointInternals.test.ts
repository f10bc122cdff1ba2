/** Internals with a reference to check against: strided copies, CRC-32, zip structures. */
import * as fs from 'fs';
import * as path from 'path';
import { loadStateDict, saveStateDict } from '../../../src/io';
import { crc32, crc32Reference } from '../../../src/io/crc32';
import { gatherStrided, isContiguous, viewExtent } from '../../../src/io/stridedView';
import { rng } from '../../helpers/numeric';
import { buildZip, str, tensorPickle, torchZip } from './crafted';
import { tempDir } from './checkpointFixtures';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

async function loadBytes(bytes: Uint8Array, name = 'x.pt'): Promise<unknown> {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, bytes);
  return loadStateDict(file);
}

async function errorOf(bytes: Uint8Array): Promise<{ code?: string; message: string }> {
  try {
    await loadBytes(bytes);
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('loaded');
}

describe('gatherStrided', () => {
  it('matches element-by-element indexing on 500 random views, all element sizes, unaligned buffers', () => {
    const r = rng(7);
    for (let trial = 0; trial < 500; trial++) {
      const itemSize = [1, 2, 4, 8][trial % 4];
      const ndim = Math.floor(r() * 5);
      const shape = Array.from({ length: ndim }, () => 1 + Math.floor(r() * 4));
      // Strides of some contiguous parent, permuted, stepped and offset: the views torch saves.
      const parent = shape.map((d) => d * (1 + Math.floor(r() * 2)));
      const parentStride = parent.map((_, i) => parent.slice(i + 1).reduce((a, b) => a * b, 1));
      const perm = parentStride.map((s, i) => [r(), s, i] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
      const stride = perm.map((s) => s * (1 + Math.floor(r() * 2)));
      const offset = Math.floor(r() * 5);
      const view = { offset, shape, stride };
      const storageNumel = offset + shape.reduce((acc, d, i) => acc + (d - 1) * stride[i], 0) + 1 + Math.floor(r() * 3);
      const extent = viewExtent(view, storageNumel);
      if (typeof extent === 'string') continue;
      const storage = new Uint8Array(storageNumel * itemSize + 1).subarray(1); // deliberately unaligned
      for (let i = 0; i < storage.length; i++) storage[i] = Math.floor(r() * 256);
      const dst = new Uint8Array(extent.numel * itemSize);
      const src = storage.subarray(extent.first * itemSize, (extent.last + 1) * itemSize);
      gatherStrided(src, extent.first, dst, view, itemSize);
      const want = new Uint8Array(dst.length);
      for (let k = 0; k < extent.numel; k++) {
        let rem = k;
        let at = offset;
        for (let d = ndim - 1; d >= 0; d--) {
          at += (rem % shape[d]) * stride[d];
          rem = Math.floor(rem / shape[d]);
        }
        want.set(storage.subarray(at * itemSize, (at + 1) * itemSize), k * itemSize);
      }
      expect(Buffer.from(dst).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('tells contiguous views and refuses views outside or larger than their storage', () => {
    expect(isContiguous({ offset: 3, shape: [2, 3], stride: [3, 1] })).toBe(true);
    expect(isContiguous({ offset: 0, shape: [3, 1], stride: [1, 99] })).toBe(true);
    expect(isContiguous({ offset: 0, shape: [2, 3], stride: [1, 2] })).toBe(false);
    expect(viewExtent({ offset: 4, shape: [2, 3], stride: [3, 1] }, 9)).toMatch(/reach element 9 of a storage of 9/);
    expect(viewExtent({ offset: 0, shape: [4], stride: [0] }, 1)).toMatch(/broadcast views cannot be loaded/);
    expect(viewExtent({ offset: 0, shape: [2 ** 40, 2 ** 40], stride: [1, 1] }, 100)).toMatch(/more elements than its storage/);
  });
});

describe('crc32', () => {
  it('agrees with the bytewise reference and the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 131) & 0xff));
    expect(crc32(data)).toBe(crc32Reference(data));
    expect(crc32(data.subarray(5000), crc32(data.subarray(0, 5000)))).toBe(crc32Reference(data));
  });
});

describe('zip structures', () => {
  const f32 = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const tensor = tensorPickle({ numel: 6, shape: [2, 3], stride: [3, 1] });

  it('reads a minimal hand-made archive, stored and deflated', async () => {
    for (const deflate of [false, true]) {
      const sd = (await loadBytes(torchZip(tensor, { 0: f32 }, deflate))) as Map<string, { data: Float32Array }>;
      expect(Array.from(sd.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('reads ZIP64 records written for every entry', async () => {
    const file = path.join(tmp.dir, 'z64.pt');
    await saveStateDict(file, new Map([['w', { dtype: 'float32', shape: [2], data: new Float32Array([7, 8]) }]]), { format: 'torch', zip64: 'always' });
    const bytes = fs.readFileSync(file);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // zip64 end record
    expect(Array.from(((await loadBytes(bytes)) as Map<string, { data: Float32Array }>).get('w')!.data)).toEqual([7, 8]);
  });

  it.each([
    ['a CRC mismatch in data.pkl', () => { const z = torchZip(tensor, { 0: f32 }); z[50] ^= 1; return z; }, 'POSAPL_FORMAT', /'archive\/data\.pkl' fails its CRC-32 check/],
    ['a storage record of the wrong size', () => torchZip(tensor, { 0: f32.subarray(4) }), 'POSAPL_TENSOR', /should hold 6 x float32 = 24 bytes but its record has 20/],
    ['a missing storage record', () => torchZip(tensor), 'POSAPL_TENSOR', /storage record 'archive\/data\/0' is missing/],
    ['an unknown storage class', () => torchZip(tensorPickle({ numel: 6, shape: [6], stride: [1], storageClass: 'QInt8Storage' }), { 0: f32 }), 'POSAPL_PICKLE', /torch\.QInt8Storage/],
    ['a TorchScript archive', () => buildZip([{ name: 'm/constants.pkl', data: Buffer.from('x') }]), 'POSAPL_FORMAT', /TorchScript/],
    ['two pickles', () => buildZip([{ name: 'a/data.pkl', data: tensor }, { name: 'b/data.pkl', data: tensor }]), 'POSAPL_FORMAT', /several pickles/],
    ['a bare pickle', () => Buffer.concat([Buffer.from([0x80, 2]), str('legacy')]), 'POSAPL_FORMAT', /legacy/],
    ['a deflated data.pkl that understates its size', () => buildZip([{ name: 'a/data.pkl', data: Buffer.alloc(4 << 20), deflate: true, declaredSize: 1000 }]), 'POSAPL_FORMAT', /inflates to more than its declared 1000 bytes/],
    ['a data.pkl over the size limit', () => buildZip([{ name: 'a/data.pkl', data: Buffer.alloc(1000), deflate: true, declaredSize: 0xfffffff0 }]), 'POSAPL_FORMAT', /more than the \d+ allowed/],
  ])('refuses %s', async (_, make, code, message) => {
    const error = await errorOf(make());
    expect(error.code).toMatch(new RegExp(`^${code}`));
    expect(error.message).toMatch(message);
  });
});
