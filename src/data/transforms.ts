/**
 * The authors' image transforms (spec section 7, posapl_main.py CreateDataset):
 *   train: RandomResizedCrop(S, scale (0.5, 1), ratio (3/4, 4/3), bicubic), RandomHorizontalFlip,
 *          RandomAugment(N=2, M=7) over ten ops, ToTensor, Normalize(CLIP mean, std)
 *   test:  Resize((S, S), bicubic), ToTensor, Normalize
 * The random choices are drawn here, in TypeScript, from a generator seeded per image; the pixel
 * work runs in the native kernels.
 */
import { AugmentOpName, imageAugment } from '../ops/imageAugment';
import { imageFlipHorizontal } from '../ops/imageFlip';
import { CLIP_MEAN, CLIP_STD, imageNormalize } from '../ops/imageNormalize';
import { CropBox, imageResizeBicubic } from '../ops/imageResize';
import { SeededRandom } from '../seededRandom';

/** A decoded 8-bit RGB image, rows of interleaved R, G, B bytes: (height, width, 3). */
export interface RgbImage {
  data: Uint8Array;
  height: number;
  width: number;
}

/** One RandAugment step that fires: the op and its signed argument. */
export interface AugmentStep {
  op: AugmentOpName;
  magnitude: number;
}

/** Every random choice of one train transform. */
export interface TrainPlan {
  box: CropBox;
  flip: boolean;
  /** The RandAugment ops that fire, in order (each of the N drawn fires with p = 0.5). */
  steps: AugmentStep[];
}

/** RandomResizedCrop's area fraction and aspect-ratio ranges in the authors' train transform. */
export const CROP_SCALE: readonly [number, number] = [0.5, 1.0];
export const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** RandomAugment(N, M) as the authors construct it, with the ten ops they list. */
export const RAND_AUGMENT = {
  n: 2,
  m: 7,
  ops: ['Identity', 'AutoContrast', 'Equalize', 'Brightness', 'Sharpness',
    'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'] as readonly AugmentOpName[],
  probability: 0.5,
  fill: 128,
} as const;

/** Python's round(): to nearest, ties to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's RandomResizedCrop.get_params: ten tries at an area fraction uniform in `scale`
 * and a log-uniform aspect ratio, sizes rounded half to even, the first box that fits placed
 * uniformly; otherwise the largest centred box with the ratio clamped into `ratio`.
 */
export function sampleCropBox(
  random: SeededRandom, width: number, height: number,
  scale: readonly [number, number] = CROP_SCALE, ratio: readonly [number, number] = CROP_RATIO,
): CropBox {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * random.uniform(scale[0], scale[1]);
    const aspect = Math.exp(random.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = random.integer(0, height - h + 1);
      const left = random.integer(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * The authors' RandomAugment draws: N ops uniformly with replacement; each fires when a uniform
 * draw is at most p; a firing geometric op then draws its sign (Rotate negative below 0.5,
 * shears and translations negative above 0.5). Magnitudes at level M of 10: enhance factor
 * 0.1 + 1.8 M/10, shear 0.3 M/10, translation 10 M/10 pixels, rotation 30 M/10 degrees.
 */
export function sampleAugmentSteps(random: SeededRandom): AugmentStep[] {
  const { n, m, ops, probability } = RAND_AUGMENT;
  const level = m / 10;
  const drawn: AugmentOpName[] = [];
  for (let k = 0; k < n; k++) drawn.push(ops[random.integer(0, ops.length)]);
  const steps: AugmentStep[] = [];
  for (const op of drawn) {
    if (random.random() > probability) continue;
    switch (op) {
      case 'Brightness':
      case 'Sharpness':
        steps.push({ op, magnitude: level * 1.8 + 0.1 });
        break;
      case 'ShearX':
      case 'ShearY':
        steps.push({ op, magnitude: random.random() > 0.5 ? -level * 0.3 : level * 0.3 });
        break;
      case 'TranslateX':
      case 'TranslateY':
        steps.push({ op, magnitude: random.random() > 0.5 ? -level * 10 : level * 10 });
        break;
      case 'Rotate':
        steps.push({ op, magnitude: random.random() < 0.5 ? -level * 30 : level * 30 });
        break;
      default:
        steps.push({ op, magnitude: 0 });
    }
  }
  return steps;
}

/** Every random choice of the train transform of a width x height image, from one seed. */
export function planTrainTransform(seed: number, width: number, height: number): TrainPlan {
  const random = new SeededRandom(seed);
  const box = sampleCropBox(random, width, height);
  const flip = random.random() < 0.5;
  return { box, flip, steps: sampleAugmentSteps(random) };
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) {
    const error = new Error(`Expected positive integer for size but received ${size}`) as Error & { code: string };
    error.code = 'POSAPL_SHAPE';
    throw error;
  }
}

function outputFor(size: number, out: Float32Array | undefined): Float32Array {
  return out ?? new Float32Array(3 * size * size);
}

/** Runs a train plan: crop + bicubic resize to size x size, flip, the augment steps, normalise into out (3,S,S). */
export function applyTrainPlan(image: RgbImage, size: number, plan: TrainPlan, out?: Float32Array): Float32Array {
  checkSize(size);
  const result = outputFor(size, out);
  let current = new Uint8Array(size * size * 3);
  let spare = new Uint8Array(size * size * 3);
  imageResizeBicubic({
    out: current, input: image.data, height: image.height, width: image.width,
    outHeight: size, outWidth: size, box: plan.box,
  });
  if (plan.flip) {
    imageFlipHorizontal(spare, current, size, size);
    [current, spare] = [spare, current];
  }
  for (const step of plan.steps) {
    imageAugment(spare, current, size, size, step.op, step.magnitude, RAND_AUGMENT.fill);
    [current, spare] = [spare, current];
  }
  imageNormalize(result, current, size, size, CLIP_MEAN, CLIP_STD);
  return result;
}

/** The train transform of one image, every random choice drawn from `seed`; (3,S,S) float32. */
export function trainTransform(image: RgbImage, size: number, seed: number, out?: Float32Array): Float32Array {
  return applyTrainPlan(image, size, planTrainTransform(seed, image.width, image.height), out);
}

/** The test transform: bicubic resize to size x size and normalise; (3,S,S) float32. */
export function testTransform(image: RgbImage, size: number, out?: Float32Array): Float32Array {
  checkSize(size);
  const result = outputFor(size, out);
  const resized = new Uint8Array(size * size * 3);
  imageResizeBicubic({
    out: resized, input: image.data, height: image.height, width: image.width, outHeight: size, outWidth: size,
  });
  imageNormalize(result, resized, size, size, CLIP_MEAN, CLIP_STD);
  return result;
}
