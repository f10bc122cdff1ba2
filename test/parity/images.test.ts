/**
 * The image kernels against the libraries the authors' code runs on (fixtures from
 * tools/reference/gen_images.py: Pillow 9.4, torchvision 0.14, OpenCV 4.6, numpy 1.24; the
 * augment references were checked equal to the authors' posapl_0_randaugment.py functions).
 * Tolerance: none. Every uint8 result and every normalised float32 is required to be
 * bit-exact (one check also states atol 1e-6 so a failure prints the worst element).
 */
import * as path from 'path';
import { Fixture, FIXTURE_DIR, loadFixture } from '../helpers/fixtures';
import { expectClose } from '../helpers/numeric';
import { imageAugment, AugmentOpName } from '../../src/ops/imageAugment';
import { imageResizeBicubic } from '../../src/ops/imageResize';
import { imageWarpAffine } from '../../src/ops/imageWarp';
import { imageNormalize } from '../../src/ops/imageNormalize';
import { applyTrainPlan, testTransform, TrainPlan } from '../../src/data/transforms';
import { decodeImage } from '../../src/data/decode';

interface Bytes {
  data: Uint8Array;
  height: number;
  width: number;
}

/** An image the generator packed four bytes to an int32, its shape in meta.shapes. */
function image(f: Fixture, name: string): Bytes {
  const shape = (f.meta.shapes as Record<string, number[]>)[name];
  const packed = f.i32(name);
  return { data: new Uint8Array(packed.buffer, packed.byteOffset, shape[0] * shape[1] * 3), height: shape[0], width: shape[1] };
}

/** Bit-exact comparison that names the first differing pixel and counts the others. */
function expectSameBytes(actual: Uint8Array, expected: Bytes, label: string): void {
  expect(actual.length).toBe(expected.data.length);
  let first = -1, count = 0;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected.data[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count > 0) {
    const p = Math.floor(first / 3), y = Math.floor(p / expected.width), x = p % expected.width;
    throw new Error(`${label}: ${count} bytes differ; first at (y ${y}, x ${x}, c ${first % 3}): ` +
      `${actual[first]} vs ${expected.data[first]}`);
  }
}

describe('bicubic resize vs Pillow Image.resize / torchvision resized_crop (exact)', () => {
  const f = loadFixture('images/resize');
  const input = image(f, 'input');
  const cases = f.meta.cases as Record<string, { size: [number, number]; box: [number, number, number, number] | null }>;
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const [outWidth, outHeight] = c.size;
      const out = new Uint8Array(outHeight * outWidth * 3);
      const box = c.box ? { top: c.box[0], left: c.box[1], height: c.box[2], width: c.box[3] } : undefined;
      imageResizeBicubic({ out, input: input.data, height: input.height, width: input.width, outHeight, outWidth, box });
      expectSameBytes(out, image(f, name), name);
    });
  }

  it("the test transform equals torchvision's Resize + ToTensor + Normalize (rtol 0, atol 1e-6)", () => {
    const size = f.meta.test_size as number;
    const out = testTransform({ data: input.data, height: input.height, width: input.width }, size);
    expectClose(out, f.f32('test_transform'), 0, 1e-6, 'test transform');
  });

  const plans = f.meta.train_plans as Array<{ box: number[]; flip: boolean; steps: Array<[AugmentOpName, number]> }>;
  plans.forEach((p, k) => {
    it(`the train transform for fixed draws ${k} (crop, flip ${p.flip}, ${p.steps.map((s) => s[0]).join(', ')}) is exact`, () => {
      const plan: TrainPlan = {
        box: { top: p.box[0], left: p.box[1], height: p.box[2], width: p.box[3] },
        flip: p.flip,
        steps: p.steps.map(([op, magnitude]) => ({ op, magnitude })),
      };
      const out = applyTrainPlan({ data: input.data, height: input.height, width: input.width }, 24, plan);
      expect(Array.from(out)).toEqual(Array.from(f.f32(`train_plan_${k}`)));
    });
  });

  it('imageNormalize divides like torch: exact float32 equality on the resized image', () => {
    const size = f.meta.test_size as number;
    const resized = new Uint8Array(size * size * 3);
    imageResizeBicubic({ out: resized, input: input.data, height: input.height, width: input.width, outHeight: size, outWidth: size });
    const out = new Float32Array(3 * size * size);
    imageNormalize(out, resized, size, size);
    expect(Array.from(out)).toEqual(Array.from(f.f32('test_transform')));
  });
});

describe("RandAugment ops vs the authors' numpy/OpenCV functions (exact)", () => {
  const f = loadFixture('images/augment');
  const input = image(f, 'input');
  const m = f.meta as { enhance: number; shear: number; translate: number; rotate: number; fill: number };
  const cases: Array<[string, AugmentOpName, number]> = [
    ['identity', 'Identity', 0],
    ['autocontrast', 'AutoContrast', 0],
    ['equalize', 'Equalize', 0],
    ['brightness', 'Brightness', m.enhance],
    ['sharpness', 'Sharpness', m.enhance],
    ['sharpness_0', 'Sharpness', 0],
    ['sharpness_half', 'Sharpness', 0.5],
    ['shear_x', 'ShearX', m.shear],
    ['shear_x_neg', 'ShearX', -m.shear],
    ['shear_y', 'ShearY', m.shear],
    ['shear_y_neg', 'ShearY', -m.shear],
    ['translate_x', 'TranslateX', m.translate],
    ['translate_x_neg', 'TranslateX', -m.translate],
    ['translate_y', 'TranslateY', m.translate],
    ['translate_y_neg', 'TranslateY', -m.translate],
    ['rotate', 'Rotate', m.rotate],
    ['rotate_neg', 'Rotate', -m.rotate],
  ];
  for (const [name, op, magnitude] of cases) {
    it(`${name} (${op} ${magnitude})`, () => {
      const out = new Uint8Array(input.data.length);
      imageAugment(out, input.data, input.height, input.width, op, magnitude, m.fill);
      expectSameBytes(out, image(f, name), name);
    });
  }

  it('AutoContrast keeps a constant channel and whitens one whose minimum is above 0 (their uint8 wrap)', () => {
    const src = image(f, 'autocontrast_input');
    const out = new Uint8Array(src.data.length);
    imageAugment(out, src.data, src.height, src.width, 'AutoContrast');
    expectSameBytes(out, image(f, 'autocontrast_constant'), 'autocontrast_constant');
    let others = 0;
    for (let i = 0; i < out.length; i += 3) others += Number(out[i + 1] !== 255) + Number(out[i + 2] !== 90);
    expect(others).toBe(0);
  });
});

describe('imageWarpAffine vs cv2.warpAffine (exact)', () => {
  const f = loadFixture('images/warp');
  const input = image(f, 'input');
  const fill = f.meta.fill as number;
  it('a rotation with scale about an off-centre point', () => {
    const out = new Uint8Array(input.data.length);
    imageWarpAffine(out, input.data, input.height, input.width, f.meta.matrix as number[], fill);
    expectSameBytes(out, image(f, 'output'), 'output');
  });
  it('a general float32 affine matrix', () => {
    const out = new Uint8Array(input.data.length);
    imageWarpAffine(out, input.data, input.height, input.width, f.meta.affine_matrix as number[], fill);
    expectSameBytes(out, image(f, 'affine_output'), 'affine_output');
  });
});

describe("decodeImage (sharp) vs PIL's Image.open(f).convert('RGB') (exact)", () => {
  const f = loadFixture('images/decode');
  for (const name of Object.keys(f.meta.shapes as object)) {
    it(name, async () => {
      const decoded = await decodeImage(path.join(FIXTURE_DIR, 'images', name));
      const want = image(f, name);
      expect([decoded.height, decoded.width]).toEqual([want.height, want.width]);
      expectSameBytes(decoded.data, want, name);
    });
  }
});
