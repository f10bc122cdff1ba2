/**
 * The image kernels against plain TypeScript references (exact integer results), on random
 * sizes beyond the parity fixtures, and their argument checks.
 */
import { imageAugment } from '../../../src/ops/imageAugment';
import { imageFlipHorizontal } from '../../../src/ops/imageFlip';
import { CLIP_MEAN, CLIP_STD, imageNormalize } from '../../../src/ops/imageNormalize';
import { imageResizeBicubic } from '../../../src/ops/imageResize';
import { imageWarpAffine } from '../../../src/ops/imageWarp';
import { rng } from '../../helpers/numeric';
import { expectError } from '../../helpers/errors';

function randomImage(h: number, w: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(h * w * 3);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Pillow's 8-bit bicubic resize of a crop, written out plainly (Resample.c). */
function referenceResize(src: Uint8Array, w: number, box: number[], oh: number, ow: number): Uint8Array {
  const [top, left, bh, bw] = box;
  const cubic = (x: number) => {
    const a = -0.5;
    x = Math.abs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  };
  const taps = (inSize: number, outSize: number) => {
    const scale = inSize / outSize, fs = Math.max(scale, 1), support = 2 * fs;
    return Array.from({ length: outSize }, (_, o) => {
      const center = (o + 0.5) * scale;
      const lo = Math.max(0, Math.trunc(center - support + 0.5));
      const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
      const k: number[] = [];
      for (let x = lo; x < hi; x++) k.push(cubic((x - center + 0.5) * (1 / fs)));
      const sum = k.reduce((s, v) => s + v, 0);
      return { lo, k: k.map((v) => Math.trunc((v / sum) * 4194304 + (v < 0 ? -0.5 : 0.5))) };
    });
  };
  const clip = (v: number) => (v >= 2 ** 30 ? 255 : v <= 0 ? 0 : v >> 22);
  const get = (y: number, x: number, c: number) => src[((top + y) * w + left + x) * 3 + c];
  let rows = Array.from({ length: bh }, (_, y) => Array.from({ length: bw * 3 }, (_, i) => get(y, Math.floor(i / 3), i % 3)));
  if (ow !== bw) {
    const t = taps(bw, ow);
    rows = rows.map((row) => Array.from({ length: ow * 3 }, (_, i) => {
      const { lo, k } = t[Math.floor(i / 3)];
      return clip(k.reduce((s, kv, j) => s + row[(lo + j) * 3 + (i % 3)] * kv, 1 << 21));
    }));
  }
  if (oh !== bh) {
    const t = taps(bh, oh);
    const cols = rows[0].length;
    rows = t.map(({ lo, k }) => Array.from({ length: cols }, (_, i) => clip(k.reduce((s, kv, j) => s + rows[lo + j][i] * kv, 1 << 21))));
  }
  return Uint8Array.from(rows.flat());
}

describe('imageResizeBicubic', () => {
  it("equals a plain reference of Pillow's algorithm on random sizes, boxes and images (exact)", () => {
    const r = rng(11);
    for (let trial = 0; trial < 12; trial++) {
      const h = 2 + Math.floor(r() * 40), w = 2 + Math.floor(r() * 40);
      const top = Math.floor(r() * (h - 1)), left = Math.floor(r() * (w - 1));
      const bh = 1 + Math.floor(r() * (h - top)), bw = 1 + Math.floor(r() * (w - left));
      const oh = 1 + Math.floor(r() * 50), ow = 1 + Math.floor(r() * 50);
      const src = randomImage(h, w, trial);
      const out = new Uint8Array(oh * ow * 3);
      imageResizeBicubic({ out, input: src, height: h, width: w, outHeight: oh, outWidth: ow, box: { top, left, height: bh, width: bw } });
      expect(Array.from(out)).toEqual(Array.from(referenceResize(src, w, [top, left, bh, bw], oh, ow)));
    }
  });

  it('keeps a constant image constant and copies a box resized to its own size', () => {
    const src = new Uint8Array(30 * 20 * 3).fill(77);
    const out = new Uint8Array(13 * 41 * 3);
    imageResizeBicubic({ out, input: src, height: 30, width: 20, outHeight: 13, outWidth: 41 });
    expect(out.every((v) => v === 77)).toBe(true);
    const img = randomImage(9, 8, 3), copy = new Uint8Array(4 * 5 * 3);
    imageResizeBicubic({ out: copy, input: img, height: 9, width: 8, outHeight: 4, outWidth: 5, box: { top: 2, left: 3, height: 4, width: 5 } });
    for (let y = 0; y < 4; y++) expect(Array.from(copy.subarray(y * 15, y * 15 + 15))).toEqual(Array.from(img.subarray(((2 + y) * 8 + 3) * 3, ((2 + y) * 8 + 8) * 3)));
  });

  it('checks its arguments', () => {
    const input = new Uint8Array(4 * 5 * 3), out = new Uint8Array(2 * 2 * 3);
    const call = (o: Uint8Array, i: Uint8Array, h = 4, w = 5, box = { top: 0, left: 0, height: 4, width: 5 }) =>
      imageResizeBicubic({ out: o, input: i, height: h, width: w, outHeight: 2, outWidth: 2, box });
    expectError(() => call(new Float32Array(12) as unknown as Uint8Array, input), 'POSAPL_TYPE', 'out');
    expectError(() => call(out, new Uint8Array(59)), 'POSAPL_SHAPE', 'input');
    expectError(() => call(out, input, 0), 'POSAPL_SHAPE', 'h');
    expectError(() => call(out, input, 4, 2.5), 'POSAPL_SHAPE', 'w');
    expectError(() => call(out, input, 4, 5, { top: 1, left: 0, height: 4, width: 5 }), 'POSAPL_SHAPE', 'boxH');
    expectError(() => call(out, input, 4, 5, { top: 0, left: 5, height: 1, width: 1 }), 'POSAPL_SHAPE', 'left');
    expectError(() => call(input.subarray(0, 12), input), 'POSAPL_ALIAS', 'out');
  });
});

describe('imageFlipHorizontal', () => {
  it('reverses the columns and checks its arguments', () => {
    const img = randomImage(3, 7, 5), out = new Uint8Array(img.length);
    imageFlipHorizontal(out, img, 3, 7);
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 7; x++)
        for (let c = 0; c < 3; c++) expect(out[(y * 7 + x) * 3 + c]).toBe(img[(y * 7 + 6 - x) * 3 + c]);
    expectError(() => imageFlipHorizontal(out, [1, 2] as unknown as Uint8Array, 3, 7), 'POSAPL_TYPE', 'input');
    expectError(() => imageFlipHorizontal(new Uint8Array(5), img, 3, 7), 'POSAPL_SHAPE', 'out');
    expectError(() => imageFlipHorizontal(out, img, -3, 7), 'POSAPL_SHAPE', 'h');
    expectError(() => imageFlipHorizontal(img, img, 3, 7), 'POSAPL_ALIAS', 'out');
  });
});

describe('imageNormalize', () => {
  it('equals (v / 255 - mean) / std in float32, channel-major, and checks its arguments', () => {
    const img = randomImage(4, 6, 8), out = new Float32Array(3 * 24);
    imageNormalize(out, img, 4, 6);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 24; i++)
        expect(out[c * 24 + i]).toBe(Math.fround(Math.fround(Math.fround(img[i * 3 + c] / 255) - Math.fround(CLIP_MEAN[c])) / Math.fround(CLIP_STD[c])));
    expectError(() => imageNormalize(new Float64Array(72) as unknown as Float32Array, img, 4, 6), 'POSAPL_TYPE', 'out');
    expectError(() => imageNormalize(out, img, 4, 6, [0.5, 0.5]), 'POSAPL_SHAPE', 'mean');
    expectError(() => imageNormalize(out, img, 4, 0), 'POSAPL_SHAPE', 'w');
    const shared = new ArrayBuffer(72 * 4);
    expectError(() => imageNormalize(new Float32Array(shared), new Uint8Array(shared, 0, 72), 4, 6), 'POSAPL_ALIAS', 'out');
  });
});

describe('imageWarpAffine', () => {
  it('copies under the identity and shifts by whole pixels with the fill', () => {
    const img = randomImage(6, 9, 4), out = new Uint8Array(img.length);
    imageWarpAffine(out, img, 6, 9, [1, 0, 0, 0, 1, 0], 128);
    expect(Array.from(out)).toEqual(Array.from(img));
    imageWarpAffine(out, img, 6, 9, [1, 0, 2, 0, 1, -1], 7); // moves content right 2, up 1
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 9; x++)
        for (let c = 0; c < 3; c++) {
          const sx = x - 2, sy = y + 1;
          const want = sx >= 0 && sy < 6 ? img[(sy * 9 + sx) * 3 + c] : 7;
          expect(out[(y * 9 + x) * 3 + c]).toBe(want);
        }
  });

  it('checks its arguments', () => {
    const img = new Uint8Array(12), out = new Uint8Array(12);
    expectError(() => imageWarpAffine(out, img, 2, 2, [1, 0, 0, 0, 1, NaN], 0), 'POSAPL_TYPE', 'm5');
    expectError(() => imageWarpAffine(out, img, 2, 2, [1, 0, 0, 0, 1, 0], 256), 'POSAPL_SHAPE', 'fill');
    expectError(() => imageWarpAffine(out, new Int8Array(12) as unknown as Uint8Array, 2, 2, [1, 0, 0, 0, 1, 0], 0), 'POSAPL_TYPE', 'input');
    expectError(() => imageWarpAffine(out, img, 2, 3, [1, 0, 0, 0, 1, 0], 0), 'POSAPL_SHAPE', 'out');
    expectError(() => imageWarpAffine(out, img, 2, 2, [1, 0, 0], 0), 'POSAPL_SHAPE', 'matrix');
    expectError(() => imageWarpAffine(out, out, 2, 2, [1, 0, 0, 0, 1, 0], 0), 'POSAPL_ALIAS', 'out');
  });
});

describe('imageAugment', () => {
  const h = 11, w = 13;
  const img = randomImage(h, w, 9);
  const channel = (data: Uint8Array, c: number) => Array.from({ length: h * w }, (_, i) => data[i * 3 + c]);

  it('Brightness is a float32 table, clipped and truncated', () => {
    const out = new Uint8Array(img.length);
    imageAugment(out, img, h, w, 'Brightness', 1.36);
    const f = Math.fround(1.36);
    img.forEach((v, i) => expect(out[i]).toBe(Math.trunc(Math.min(255, Math.fround(v * f)))));
  });

  it("Equalize is PIL's equalize per channel", () => {
    const src = img.map((v) => v >> 3); // fewer levels: a lumpy histogram
    const out = new Uint8Array(src.length);
    imageAugment(out, src, h, w, 'Equalize');
    for (let c = 0; c < 3; c++) {
      const values = channel(src, c);
      const hist = new Array(256).fill(0);
      values.forEach((v) => hist[v]++);
      const last = hist.reduce((m, n, i) => (n > 0 ? i : m), 0);
      const step = Math.floor(hist.slice(0, last).reduce((s, n) => s + n, 0) / 255);
      const lut: number[] = [];
      let n = Math.floor(step / 2);
      for (let v = 0; v < 256; v++) {
        lut.push(step === 0 ? v : Math.min(255, Math.floor(n / step)));
        n += hist[v];
      }
      expect(channel(out, c)).toEqual(values.map((v) => lut[v]));
    }
  });

  it('AutoContrast stretches a channel reaching 0 by 255 / max, truncating', () => {
    const src = new Uint8Array(img);
    for (let i = 0; i < src.length; i += 3) src[i] = Math.min(src[i], 200);
    src[0] = 0;
    const out = new Uint8Array(src.length);
    imageAugment(out, src, h, w, 'AutoContrast');
    const high = Math.max(...channel(src, 0));
    expect(channel(out, 0)).toEqual(channel(src, 0).map((v) => Math.trunc(Math.min(255, v * (255 / high)))));
  });

  it('Sharpness keeps the frame and wraps overshoots instead of clipping', () => {
    const src = new Uint8Array(5 * 5 * 3).fill(10);
    src.fill(250, (2 * 5 + 2) * 3, (2 * 5 + 3) * 3); // a bright dot in a dark field
    const out = new Uint8Array(src.length);
    imageAugment(out, src, 5, 5, 'Sharpness', 1.36);
    // Smoothed centre: round((250*5 + 8*10) / 13) = 102; 102 + 1.36*(250-102) = 303.28 -> 303 -> 47.
    expect(out[(2 * 5 + 2) * 3]).toBe(303 - 256);
    // Its neighbours: round((250 + 12*10) / 13) = 28; 28 + 1.36*(10-28) = 3.52 -> 3.
    expect(out[(2 * 5 + 1) * 3]).toBe(3);
    expect(out[0]).toBe(10);
  });

  it('checks its arguments', () => {
    const out = new Uint8Array(img.length);
    expectError(() => imageAugment(out, img, h, w, 'Solarize' as never), 'POSAPL_TYPE', 'op');
    expectError(() => imageAugment(out, img, h, w, 'Rotate', Infinity), 'POSAPL_TYPE', 'magnitude');
    expectError(() => imageAugment(out, img, h, w, 'Rotate', 1, -1), 'POSAPL_SHAPE', 'fill');
    expectError(() => imageAugment(new Uint8ClampedArray(img.length) as unknown as Uint8Array, img, h, w, 'Identity'), 'POSAPL_TYPE', 'out');
    expectError(() => imageAugment(out, img, h + 1, w, 'Identity'), 'POSAPL_SHAPE', 'out');
    expectError(() => imageAugment(out, img, h, 1e10, 'Identity'), 'POSAPL_SHAPE', 'w');
    expectError(() => imageAugment(img, img, h, w, 'Identity'), 'POSAPL_ALIAS', 'out');
  });
});
