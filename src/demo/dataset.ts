/**
 * The demo dataset: synthetic aerial scenes written as real PNG, JPEG and TIFF files, five
 * captions each with their POS words, in the authors' JSON layout (train entries
 * {caption, image, image_id, pos}; test entries {image, caption: [5], pos: [5 lists]}).
 */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { cleanCaption } from '../text/cleanCaption';
import { tagPos } from '../text/tagPos';
import { describeScene } from './captions';
import { DEMO_TRAINING } from './config';
import { hashSeed, SeededRandom } from '../seededRandom';
import { renderScene } from './render';
import { Scene, sampleScene } from './scene';

/** Sizes and seed of {@link generateDemoDataset}. */
export interface DemoDatasetOptions {
  /** Training images (five caption entries each). Defaults: {@link DEMO_TRAINING}. */
  trainImages?: number;
  testImages?: number;
  /** Side of the square images in pixels (at least 32). */
  imageSize?: number;
  seed?: number;
}

/** Where {@link generateDemoDataset} put things. */
export interface DemoDatasetFiles {
  /** train.json (authors' layout). */
  train: string;
  /** test.json (authors' layout). */
  test: string;
  /** The image root the JSON's `image` paths are relative to. */
  images: string;
}


/** The three formats, in turn by image index: the real decoders all get exercised. */
export const DEMO_FORMATS = ['png', 'jpg', 'tif'] as const;
export type DemoFormat = (typeof DEMO_FORMATS)[number];

/** One image of the demo: its scene, pixels, captions and file name. */
export interface DemoSample {
  scene: Scene;
  /** (size, size, 3) RGB bytes. */
  rgb: Uint8Array;
  captions: string[];
  /** Path relative to the image root, e.g. `train/farmland_0007.tif`. */
  image: string;
  format: DemoFormat;
}

const SPLIT_STREAM = { train: 1, test: 2 } as const;

/** Image `index` of `split`: a pure function of (seed, split, index, size). */
export function demoSample(seed: number, split: 'train' | 'test', index: number, size: number): DemoSample {
  const random = new SeededRandom(hashSeed(seed, SPLIT_STREAM[split], index));
  const scene = sampleScene(random, size);
  const captions = describeScene(scene, random);
  const format = DEMO_FORMATS[index % DEMO_FORMATS.length];
  const image = `${split}/${scene.ground}_${String(index).padStart(4, '0')}.${format}`;
  return { scene, rgb: renderScene(scene), captions, image, format };
}

function checkCount(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw posaplError('POSAPL_TYPE', `Expected integer >= ${min} for ${name} but received ${String(value)}`);
  }
  return value;
}

async function writeImage(file: string, sample: DemoSample, size: number): Promise<void> {
  // sharp is loaded here so that nothing else in the package pays for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sharp = require('sharp') as typeof import('sharp');
  const image = sharp(Buffer.from(sample.rgb.buffer, sample.rgb.byteOffset, sample.rgb.byteLength), { raw: { width: size, height: size, channels: 3 } });
  const encoded = sample.format === 'png' ? image.png() : sample.format === 'jpg' ? image.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }) : image.tiff({ compression: 'none' });
  await encoded.toFile(file);
}

/** POS words of a caption as the project's tagger gives them (spec section 6). */
function posOf(caption: string): string[] {
  return tagPos(cleanCaption(caption));
}

/**
 * Writes the demo dataset under `dir`: `images/train/*`, `images/test/*`, `train.json` and
 * `test.json`. Everything follows from `seed`: the same options give the same files.
 */
export async function generateDemoDataset(dir: string, opts: DemoDatasetOptions = {}): Promise<DemoDatasetFiles> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw posaplError('POSAPL_TYPE', `Expected a folder path for dir but received ${JSON.stringify(dir)}`);
  }
  const trainImages = checkCount(opts.trainImages ?? DEMO_TRAINING.trainImages, 'trainImages', 1);
  const testImages = checkCount(opts.testImages ?? DEMO_TRAINING.testImages, 'testImages', 1);
  const size = checkCount(opts.imageSize ?? DEMO_TRAINING.imageSize, 'imageSize', 32);
  const seed = opts.seed ?? DEMO_TRAINING.seed;
  if (!Number.isInteger(seed)) throw posaplError('POSAPL_TYPE', `Expected integer for seed but received ${String(seed)}`);

  const images = path.join(dir, 'images');
  for (const split of ['train', 'test']) fs.mkdirSync(path.join(images, split), { recursive: true });

  const train: Array<{ caption: string; image: string; image_id: number; pos: string[] }> = [];
  const test: Array<{ image: string; caption: string[]; pos: string[][] }> = [];
  const writes: Promise<void>[] = [];
  const write = async (sample: DemoSample) => {
    // A few files in flight: sharp encodes on its own threads while the next scene is drawn.
    if (writes.length >= 8) await writes.shift();
    const written = writeImage(path.join(images, sample.image), sample, size);
    written.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
    writes.push(written);
  };
  for (let i = 0; i < trainImages; i++) {
    const sample = demoSample(seed, 'train', i, size);
    for (const caption of sample.captions) train.push({ caption, image: sample.image, image_id: i, pos: posOf(caption) });
    await write(sample);
  }
  for (let i = 0; i < testImages; i++) {
    const sample = demoSample(seed, 'test', i, size);
    test.push({ image: sample.image, caption: sample.captions, pos: sample.captions.map(posOf) });
    await write(sample);
  }
  await Promise.all(writes);

  const files = { train: path.join(dir, 'train.json'), test: path.join(dir, 'test.json'), images };
  fs.writeFileSync(files.train, JSON.stringify(train));
  fs.writeFileSync(files.test, JSON.stringify(test));
  return files;
}
