/**
 * Decoding real files written here with sharp (TIFF, JPEG, PNG; RGB, grey, RGBA, 16-bit), and
 * the worker-thread pipeline: same pixels as the in-thread transforms, reproducible from the
 * seeds whatever the number of workers, missing and corrupt files reported or skipped.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { decodeImage } from '../../../src/data/decode';
import { ImagePipeline } from '../../../src/data/imagePipeline';
import { sampleSeed } from '../../../src/train/sampling';
import { testTransform, trainTransform } from '../../../src/data/transforms';
import { rng } from '../../helpers/numeric';

const H = 36, W = 44;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-images-'));
const rgb = new Uint8Array(H * W * 3);
{
  const r = rng(21);
  // Smooth content plus noise, so JPEG keeps it close.
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) rgb[(y * W + x) * 3 + c] = Math.round(30 + 2 * x + 2 * y + 20 * c + 8 * r());
}
const grey = new Uint8Array(H * W).map((_, i) => (i * 7) % 256);
const alpha = new Uint8Array(H * W * 4).map((_, i) => (i % 4 === 3 ? (i * 13) % 256 : rgb[Math.floor(i / 4) * 3 + (i % 4)]));
const grey16 = new Uint16Array(H * W).map((_, i) => (i * 1031) % 65536);

const raw = (data: Uint8Array | Uint16Array, channels: 1 | 3 | 4) => sharp(data, { raw: { width: W, height: H, channels } });

beforeAll(async () => {
  // sharp's TIFF default is JPEG compression: ask for lossless ones.
  await raw(rgb, 3).tiff({ compression: 'none' }).toFile(path.join(dir, 'rgb.tif'));
  await raw(rgb, 3).tiff({ compression: 'lzw' }).toFile(path.join(dir, 'rgb_lzw.tif'));
  await raw(rgb, 3).jpeg({ quality: 95 }).toFile(path.join(dir, 'rgb.jpg'));
  await raw(rgb, 3).png().toFile(path.join(dir, 'rgb.png'));
  await raw(grey, 1).png().toFile(path.join(dir, 'grey.png'));
  await raw(grey, 1).tiff({ compression: 'deflate' }).toFile(path.join(dir, 'grey.tif'));
  await raw(alpha, 4).png().toFile(path.join(dir, 'rgba.png'));
  await raw(grey16, 1).toColourspace('grey16').png().toFile(path.join(dir, 'grey16.png'));
  const tif = fs.readFileSync(path.join(dir, 'rgb.tif'));
  fs.writeFileSync(path.join(dir, 'truncated.tif'), tif.subarray(0, 200));
  fs.writeFileSync(path.join(dir, 'garbage.jpg'), Buffer.from('this is not an image at all'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('decodeImage', () => {
  it('reads RGB TIFF (plain and LZW) and PNG exactly', async () => {
    for (const name of ['rgb.tif', 'rgb_lzw.tif', 'rgb.png']) {
      const img = await decodeImage(path.join(dir, name));
      expect([img.height, img.width]).toEqual([H, W]);
      expect(Buffer.compare(Buffer.from(img.data), Buffer.from(rgb))).toBe(0);
    }
  });

  it('reads JPEG close to its source (mean |error| < 2 levels)', async () => {
    const img = await decodeImage(path.join(dir, 'rgb.jpg'));
    let sum = 0;
    img.data.forEach((v, i) => (sum += Math.abs(v - rgb[i])));
    expect(sum / rgb.length).toBeLessThan(2);
  });

  it('replicates grey, drops alpha, keeps the high byte of 16-bit samples', async () => {
    const expectPixels = async (name: string, want: (p: number, c: number) => number) => {
      const img = await decodeImage(path.join(dir, name));
      let bad = 0;
      for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) bad += Number(img.data[p * 3 + c] !== want(p, c));
      expect(`${name}: ${bad} bytes differ`).toBe(`${name}: 0 bytes differ`);
    };
    await expectPixels('grey.png', (p) => grey[p]);
    await expectPixels('grey.tif', (p) => grey[p]);
    await expectPixels('rgba.png', (p, c) => rgb[p * 3 + c]);
    await expectPixels('grey16.png', (p) => grey16[p] >> 8);
  });

  it('names a missing, truncated or non-image file (POSAPL_IMAGE)', async () => {
    for (const name of ['absent.tif', 'truncated.tif', 'garbage.jpg']) {
      const file = path.join(dir, name);
      await expect(decodeImage(file)).rejects.toMatchObject({ code: 'POSAPL_IMAGE', message: expect.stringContaining(file) });
    }
  });
});

describe('ImagePipeline', () => {
  const names = ['rgb.tif', 'rgb.jpg', 'grey.png', 'rgba.png', 'grey16.png', 'rgb_lzw.tif'];
  const S = 20, per = 3 * S * S;
  let two: ImagePipeline;
  beforeAll(() => {
    two = new ImagePipeline({ root: dir, imageSize: S, workers: 2 });
  });
  afterAll(() => two.close());

  it('gives the in-thread transforms\' pixels, identical with 1 and 2 workers, and prefetches', async () => {
    const seeds = names.map((_, i) => sampleSeed(2024, 1, i));
    const one = new ImagePipeline({ root: dir, imageSize: S, workers: 1 });
    try {
      // Two loads in flight at once on the same pool (the next batch prefetched).
      const [train2, test2] = await Promise.all([two.load(names, 'train', seeds), two.load(names, 'test', seeds)]);
      const train1 = await one.load(names, 'train', seeds);
      expect(train2.missing).toEqual([]);
      expect(train2.pixels.length).toBe(names.length * per);
      expect(Buffer.compare(Buffer.from(train1.pixels.buffer), Buffer.from(train2.pixels.buffer))).toBe(0);
      for (let i = 0; i < names.length; i++) {
        const img = await decodeImage(path.join(dir, names[i]));
        expect(Array.from(train2.pixels.subarray(i * per, (i + 1) * per))).toEqual(Array.from(trainTransform(img, S, seeds[i])));
        expect(Array.from(test2.pixels.subarray(i * per, (i + 1) * per))).toEqual(Array.from(testTransform(img, S)));
      }
    } finally {
      await one.close();
    }
  });

  it('gives other pixels for other seeds', async () => {
    const a = await two.load(names, 'train', names.map((_, i) => sampleSeed(7, 0, i)));
    const b = await two.load(names, 'train', names.map((_, i) => sampleSeed(7, 1, i)));
    let differing = 0;
    for (let i = 0; i < names.length; i++) {
      const x = a.pixels.subarray(i * per, (i + 1) * per), y = b.pixels.subarray(i * per, (i + 1) * per);
      differing += Number(x.some((v, k) => v !== y[k]));
    }
    // Not necessarily all: the authors' AutoContrast turns a channel whose minimum is above 0
    // white, so two draws can both end in a white image.
    expect(differing).toBeGreaterThanOrEqual(names.length - 1);
  });

  it('rejects naming an unreadable file, or reports it in missing with zero pixels when skipping', async () => {
    const files = ['rgb.tif', 'absent.tif', 'rgb.png', 'truncated.tif'];
    const seeds = [1, 2, 3, 4];
    await expect(two.load(files, 'test', seeds)).rejects.toMatchObject({
      code: 'POSAPL_IMAGE', message: expect.stringMatching(/(absent|truncated)\.tif/),
    });
    // The pool keeps working after a failed batch.
    expect((await two.load(['rgb.png'], 'test', [0])).missing).toEqual([]);
    const lenient = new ImagePipeline({ root: dir, imageSize: S, workers: 1, skipMissing: true });
    const { pixels, missing } = await lenient.load(files, 'test', seeds);
    await lenient.close();
    expect(missing).toEqual([1, 3]);
    expect(pixels.subarray(per, 2 * per).every((v) => v === 0)).toBe(true);
    expect(pixels.subarray(3 * per).every((v) => v === 0)).toBe(true);
    expect(pixels.subarray(0, per).some((v) => v !== 0)).toBe(true);
    await expect(lenient.load(files, 'test', seeds)).rejects.toMatchObject({ code: 'POSAPL_CLOSED' });
  });

  it('decodes each image once with a decoded cache: the same pixels, later loads served from it, within its bytes', async () => {
    const seeds = (epoch: number) => names.map((_, i) => sampleSeed(5, epoch, i));
    const imageBytes = H * W * 3;
    const cached = new ImagePipeline({ root: dir, imageSize: S, workers: 2, decodedCacheBytes: 4 * imageBytes });
    try {
      for (const epoch of [0, 1, 2]) {
        const want = await two.load(names, 'train', seeds(epoch));
        const got = await cached.load(names, 'train', seeds(epoch));
        expect(Buffer.compare(Buffer.from(got.pixels.buffer), Buffer.from(want.pixels.buffer))).toBe(0);
      }
      const test = await cached.load(names, 'test', seeds(0));
      expect(Buffer.compare(Buffer.from(test.pixels.buffer), Buffer.from((await two.load(names, 'test', seeds(0))).pixels.buffer))).toBe(0);
      // Four of the six images fit; every later load of those four came from the cache.
      expect(cached.decodedCache).toEqual({ images: 4, bytes: 4 * imageBytes, hits: 4 * 3 });
    } finally {
      await cached.close();
    }
    // Off by default.
    await two.load(names, 'test', seeds(0));
    expect(two.decodedCache).toEqual({ images: 0, bytes: 0, hits: 0 });
  });

  it('checks its options and arguments', async () => {
    expect(() => new ImagePipeline({ root: dir, imageSize: 8, decodedCacheBytes: -1 })).toThrow(/decodedCacheBytes/);
    expect(() => new ImagePipeline({ root: dir, imageSize: 0 })).toThrow(/imageSize/);
    expect(() => new ImagePipeline({ root: dir, imageSize: 8, workers: 0 })).toThrow(/workers/);
    await expect(two.load(['rgb.tif'], 'train', [])).rejects.toThrow(/1 integer seeds/);
    await expect(two.load(['rgb.tif'], 'eval' as never, [0])).rejects.toThrow(/'train' or 'test' for mode/);
    expect((await two.load([], 'test', [])).pixels.length).toBe(0);
  });
});
