/**
 * precision 'bf16': the frozen backbone's products on the bf16 kernel must leave embeddings,
 * losses and adapter gradients where fp32 puts them, up to bf16 rounding.
 */
import { ModelConfigInput } from '../../src/clip/config';
import { bf16Available } from '../../src/ops/gemmBf16';
import { loadModel } from '../../src/posapl/loadModel';
import { PosaplModel } from '../../src/posapl/model';
import { randomArray, rng } from '../helpers/numeric';

const CONFIG: ModelConfigInput = {
  embed_dim: 32,
  vision_cfg: { image_size: 64, patch_size: 16, width: 64, layers: 7, head_width: 16 },
  text_cfg: { context_length: 16, vocab_size: 200, width: 64, heads: 4, layers: 7 },
  posapl: { down_dim: 16, sa_heads: 4, pos_side: true, down_dim_pos: 16, side_fusion: 'chained' },
};
const N = 6;

function batch() {
  const r = rng(3);
  const ids = new Int32Array(N * 16);
  for (let i = 0; i < N; i++) {
    ids[i * 16] = 198;
    for (let j = 1; j < 5 + i; j++) ids[i * 16 + j] = 1 + Math.floor(r() * 190);
    ids[i * 16 + 5 + i] = 199;
  }
  return { pixels: randomArray(N * 3 * 64 * 64, 4), ids, posIds: ids, imageIds: Int32Array.from([0, 0, 1, 2, 3, 4]), n: N };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

// Non-zero adapters everywhere, so every path carries signal and gradient.
async function model(precision: 'fp32' | 'bf16'): Promise<PosaplModel> {
  const m = await loadModel({ random: true, config: CONFIG, seed: 7 });
  let s = 1;
  for (const p of m.params.trainable()) p.data.set(randomArray(p.data.length, s++, 0.05));
  m.setPrecision(precision);
  return m;
}

(bf16Available() ? describe : describe.skip)('bf16 model against fp32', () => {
  it('reports its precision and keeps embeddings within cosine 0.999 per sample', async () => {
    const fp32 = await model('fp32');
    const bf16 = await model('bf16');
    expect(fp32.precision).toBe('fp32');
    expect(bf16.precision).toBe('bf16');
    const b = batch();
    const e = 32;
    for (const [x, y] of [[fp32.encodeImages(b.pixels, N), bf16.encodeImages(b.pixels, N)], [fp32.encodeTexts(b.ids, b.posIds, N), bf16.encodeTexts(b.ids, b.posIds, N)]]) {
      for (let i = 0; i < N; i++) {
        const c = cosine(x.subarray(i * e, (i + 1) * e), y.subarray(i * e, (i + 1) * e));
        expect(c).toBeGreaterThan(0.999);
        expect(c).toBeLessThan(1 - 1e-9); // bf16 really ran
      }
    }
  });

  it('gives the same losses and adapter gradients up to bf16 rounding', async () => {
    const fp32 = await model('fp32');
    const bf16 = await model('bf16');
    const b = batch();
    const l32 = fp32.lossAndGradients(b);
    const l16 = bf16.lossAndGradients(b);
    expect(Math.abs(l16.contrastive - l32.contrastive)).toBeLessThan(2e-3 * l32.contrastive);
    expect(Math.abs(l16.triplet - l32.triplet)).toBeLessThan(2e-2 * l32.triplet + 1e-4);
    // All gradients as one vector agree closely. Tensor by tensor, a few behind a ReLU seen by
    // only N rows (text Side Fusion works on the EOT rows) move more: a pre-activation within
    // rounding of zero flips sides, as in fp32 against float64.
    const g32 = fp32.gradients();
    const g16 = bf16.gradients();
    const names = [...g32.keys()].filter((k) => (g32.get(k) as Float32Array).some((v) => v !== 0));
    const all = (g: Map<string, Float32Array>) => Float32Array.from(names.flatMap((k) => [...(g.get(k) as Float32Array)]));
    expect(cosine(all(g32), all(g16))).toBeGreaterThan(0.999);
    const perTensor = names.map((k) => cosine(g32.get(k) as Float32Array, g16.get(k) as Float32Array)).sort((a, b) => a - b);
    expect(perTensor[Math.floor(perTensor.length / 2)]).toBeGreaterThan(0.999);
    expect(perTensor[0]).toBeGreaterThan(0.8);
  });

  it('switches back to fp32 exactly', async () => {
    const a = await model('fp32');
    const b = await model('bf16');
    b.setPrecision('fp32');
    const x = batch();
    expect(b.encodeImages(x.pixels, N)).toEqual(a.encodeImages(x.pixels, N));
  });
});

describe('precision argument', () => {
  it('refuses anything but fp32 and bf16, naming the option', async () => {
    await expect(loadModel({ config: CONFIG, precision: 'fp16' as never })).rejects.toMatchObject({ code: 'POSAPL_TYPE', message: expect.stringMatching(/precision/) });
    const m = await loadModel({ random: true, config: CONFIG });
    expect(() => m.setPrecision('int8' as never)).toThrow(/precision/);
  });
});
