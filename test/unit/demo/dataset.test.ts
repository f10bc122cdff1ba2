/** The demo dataset on disk: real PNG/JPEG/TIFF files, the authors' JSON layout, determinism. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { demoSample, generateDemoDataset } from '../../../src/demo/dataset';
import { cleanCaption, tagPos } from '../../../src/text';

const OPTS = { trainImages: 6, testImages: 4, imageSize: 64, seed: 5 };
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-demo-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

describe('generateDemoDataset', () => {
  let files: { train: string; test: string; images: string };
  beforeAll(async () => {
    files = await generateDemoDataset(path.join(root, 'a'), OPTS);
  });

  it('writes train.json in the authors\' layout with the tagger\'s POS words', () => {
    const train = JSON.parse(fs.readFileSync(files.train, 'utf8'));
    expect(train).toHaveLength(OPTS.trainImages * 5);
    for (const [i, e] of train.entries()) {
      expect(Object.keys(e)).toEqual(['caption', 'image', 'image_id', 'pos']);
      expect(e.image_id).toBe(Math.floor(i / 5));
      expect(e.image).toBe(train[e.image_id * 5].image);
      expect(e.image).toMatch(/^train\/[a-z]+_\d{4}\.(png|jpg|tif)$/);
      expect(e.pos).toEqual(tagPos(cleanCaption(e.caption)));
      expect(e.pos.length).toBeGreaterThan(0);
    }
    expect(train.map((e: { caption: string }) => e.caption).slice(0, 5)).toEqual(demoSample(OPTS.seed, 'train', 0, OPTS.imageSize).captions);
  });

  it('writes test.json with five captions and five POS lists per image', () => {
    const test = JSON.parse(fs.readFileSync(files.test, 'utf8'));
    expect(test).toHaveLength(OPTS.testImages);
    for (const e of test) {
      expect(Object.keys(e)).toEqual(['image', 'caption', 'pos']);
      expect(e.image).toMatch(/^test\//);
      expect(e.caption).toHaveLength(5);
      expect(e.pos).toEqual(e.caption.map((c: string) => tagPos(cleanCaption(c))));
    }
  });

  it('writes real PNG, JPEG and TIFF files that decode to the drawn pixels', async () => {
    const formats = { png: 'png', jpg: 'jpeg', tif: 'tiff' } as const;
    const seen = new Set<string>();
    for (const [split, n] of [['train', OPTS.trainImages], ['test', OPTS.testImages]] as const) {
      for (let i = 0; i < n; i++) {
        const sample = demoSample(OPTS.seed, split, i, OPTS.imageSize);
        const file = path.join(files.images, sample.image);
        const meta = await sharp(file).metadata();
        expect(meta.format).toBe(formats[sample.format]);
        expect([meta.width, meta.height, meta.channels]).toEqual([OPTS.imageSize, OPTS.imageSize, 3]);
        seen.add(sample.format);
        const pixels = await sharp(file).raw().toBuffer();
        let squared = 0;
        for (let k = 0; k < pixels.length; k++) squared += (pixels[k] - sample.rgb[k]) ** 2;
        // PNG and TIFF are lossless; JPEG (quality 92, no chroma subsampling) keeps a PSNR above 30 dB.
        if (sample.format === 'jpg') expect(10 * Math.log10((255 * 255 * pixels.length) / squared)).toBeGreaterThan(30);
        else expect(squared).toBe(0);
      }
    }
    expect([...seen].sort()).toEqual(['jpg', 'png', 'tif']);
  });

  it('is a pure function of its options: same seed same bytes, another seed other images', async () => {
    const again = await generateDemoDataset(path.join(root, 'b'), OPTS);
    const names = listFiles(path.join(root, 'a'));
    expect(listFiles(path.join(root, 'b'))).toEqual(names);
    for (const f of names) expect(fs.readFileSync(path.join(root, 'b', f)).equals(fs.readFileSync(path.join(root, 'a', f)))).toBe(true);
    expect(again.images).toBe(path.join(root, 'b', 'images'));
    const other = demoSample(OPTS.seed + 1, 'train', 0, OPTS.imageSize);
    expect(Buffer.from(other.rgb).equals(Buffer.from(demoSample(OPTS.seed, 'train', 0, OPTS.imageSize).rgb))).toBe(false);
  });

  it('rejects bad options naming them', async () => {
    for (const [opts, name] of [[{ testImages: 0 }, 'testImages'], [{ imageSize: 16 }, 'imageSize'], [{ trainImages: 2.5 }, 'trainImages'], [{ seed: 0.5 }, 'seed']] as const) {
      await expect(generateDemoDataset(path.join(root, 'bad'), opts)).rejects.toMatchObject({ code: 'POSAPL_TYPE', message: expect.stringContaining(name) });
    }
    await expect(generateDemoDataset('', OPTS)).rejects.toMatchObject({ code: 'POSAPL_TYPE', message: expect.stringContaining('dir') });
  });
});
