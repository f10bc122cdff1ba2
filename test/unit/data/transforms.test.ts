import {
  applyTrainPlan, planTrainTransform, RAND_AUGMENT, sampleAugmentSteps, sampleCropBox, testTransform, trainTransform,
} from '../../../src/data/transforms';
import { SeededRandom } from '../../../src/seededRandom';
import { rng } from '../../helpers/numeric';

function randomImage(h: number, w: number, seed: number) {
  const r = rng(seed);
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { data, height: h, width: w };
}

describe('sampleCropBox (torchvision RandomResizedCrop.get_params)', () => {
  it('keeps boxes inside the image with area in [0.5, 1] and ratio in [3/4, 4/3] up to rounding', () => {
    const random = new SeededRandom(1);
    let sumFraction = 0, outside = 0;
    const n = 4000;
    for (let k = 0; k < n; k++) {
      const box = sampleCropBox(random, 256, 256);
      const fraction = (box.width * box.height) / 65536, ratio = box.width / box.height;
      const inside = box.top >= 0 && box.left >= 0 && box.top + box.height <= 256 && box.left + box.width <= 256;
      if (!inside || fraction < 0.49 || fraction > 1 || ratio < 0.74 || ratio > 1.35) outside++;
      sumFraction += fraction;
    }
    expect(outside).toBe(0);
    // Tries whose box does not fit (large area, off-square ratio) are redrawn, so the mean is
    // below the 0.75 of the uniform draw: about 0.70 for a square image.
    expect(sumFraction / n).toBeGreaterThan(0.66);
    expect(sumFraction / n).toBeLessThan(0.74);
  });

  it('falls back to the centred box with the ratio clamped when no try fits', () => {
    const random = new SeededRandom(5);
    // 1000 x 10: every try is taller than the image, so the fallback h = 10, w = round(10 * 4/3) = 13.
    expect(sampleCropBox(random, 1000, 10)).toEqual({ top: 0, left: Math.floor((1000 - 13) / 2), height: 10, width: 13 });
    expect(sampleCropBox(random, 10, 1000)).toEqual({ top: Math.floor((1000 - 13) / 2), left: 0, height: 13, width: 10 });
  });
});

describe('sampleAugmentSteps (the authors\' RandomAugment(2, 7))', () => {
  it('draws each of the ten ops equally, fires half of them, and uses the M=7 magnitudes with both signs', () => {
    const random = new SeededRandom(7);
    const counts = new Map<string, number>();
    const magnitudes = new Map<string, Set<number>>();
    let fired = 0;
    const n = 20000;
    for (let k = 0; k < n; k++) {
      const steps = sampleAugmentSteps(random);
      fired += steps.length;
      for (const s of steps) {
        counts.set(s.op, (counts.get(s.op) ?? 0) + 1);
        if (!magnitudes.has(s.op)) magnitudes.set(s.op, new Set());
        magnitudes.get(s.op)?.add(s.magnitude);
      }
    }
    expect(Math.abs(fired / (2 * n) - 0.5)).toBeLessThan(0.01);
    for (const op of RAND_AUGMENT.ops) expect(Math.abs((counts.get(op) ?? 0) - n / 10)).toBeLessThan(n / 10 * 0.08);
    const sorted = (op: string) => [...(magnitudes.get(op) ?? [])].sort((a, b) => a - b);
    expect(sorted('Identity')).toEqual([0]);
    expect(sorted('Brightness')).toEqual([0.7 * 1.8 + 0.1]);
    expect(sorted('Sharpness')).toEqual([1.36]);
    expect(sorted('ShearX')).toEqual([-0.21, 0.21]);
    expect(sorted('TranslateY')).toEqual([-7, 7]);
    expect(sorted('Rotate')).toEqual([-21, 21]);
  });
});

describe('train and test transforms', () => {
  const image = randomImage(40, 48, 3);

  it('repeat exactly from a seed and differ across seeds', () => {
    const a = trainTransform(image, 24, 99), b = trainTransform(image, 24, 99);
    expect(Array.from(a)).toEqual(Array.from(b));
    let differing = 0;
    for (let seed = 100; seed < 110; seed++) {
      const c = trainTransform(image, 24, seed);
      if (c.some((v, i) => v !== a[i])) differing++;
    }
    expect(differing).toBe(10);
  });

  it('compose the plan: the train transform equals applyTrainPlan of the planned draws', () => {
    const plan = planTrainTransform(1234, image.width, image.height);
    expect(Array.from(trainTransform(image, 24, 1234))).toEqual(Array.from(applyTrainPlan(image, 24, plan)));
  });

  it('write into a given view of a batch and reject a bad size', () => {
    const batch = new Float32Array(2 * 3 * 16 * 16);
    const view = batch.subarray(3 * 16 * 16);
    testTransform(image, 16, view);
    expect(Array.from(view)).toEqual(Array.from(testTransform(image, 16)));
    expect(batch.subarray(0, 3 * 256).every((v) => v === 0)).toBe(true);
    expect(() => testTransform(image, 0)).toThrow(/positive integer for size/);
  });
});
