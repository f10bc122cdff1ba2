/** evaluateRetrieval on a tiny random POSAPL model, against embeddings computed directly. */
import { ModelConfigInput } from '../../../src/clip/config';
import { evaluateRetrieval, retrievalMetrics, retrievalRanks } from '../../../src/eval';
import { loadModel } from '../../../src/posapl/loadModel';
import { PosaplModel } from '../../../src/posapl/model';
import { expectClose, randomArray, rng } from '../../helpers/numeric';

const SMALL: ModelConfigInput = {
  embed_dim: 12,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 7, head_width: 8 },
  text_cfg: { context_length: 10, vocab_size: 50, width: 16, heads: 2, layers: 7 },
  posapl: { down_dim: 8, sa_heads: 2, pos_side: true, down_dim_pos: 8, side_fusion: 'end-add' },
};
const L = 10;
const PIXELS = 3 * 32 * 32;
const N_IMAGES = 7;
const N_TEXTS = 14;

/** Random captions (SOT 48 ... EOT 49) and POS ids, two per image in a mixed order. */
function captions(seed: number) {
  const r = rng(seed);
  const ids = new Int32Array(N_TEXTS * L);
  const posIds = new Int32Array(N_TEXTS * L);
  for (let t = 0; t < N_TEXTS; t++) {
    const len = 3 + (t % 6);
    for (const a of [ids, posIds]) {
      a[t * L] = 48;
      for (let j = 1; j < len; j++) a[t * L + j] = 1 + Math.floor(r() * 46);
      a[t * L + len] = 49;
    }
  }
  const textImage = new Int32Array([3, 0, 1, 6, 2, 4, 5, 0, 2, 1, 3, 6, 4, 5]);
  return { ids, posIds, textImage };
}

describe('evaluateRetrieval', () => {
  let model: PosaplModel;
  const pixels = randomArray(N_IMAGES * PIXELS, 11);
  const text = captions(12);
  beforeAll(async () => {
    model = await loadModel({ random: true, config: SMALL, seed: 5 });
    // Non-zero adapters, so that the POS stream and every adapter take part in the embeddings.
    const r = rng(9);
    for (const p of model.params.trainable()) for (let k = 0; k < p.data.length; k++) p.data[k] = (r() * 2 - 1) * 0.2;
  });

  it('embeds in batches, prefetching the next one, and scores S = I T^T as the direct computation does', async () => {
    const events: string[] = [];
    const result = await evaluateRetrieval({
      model, nImages: N_IMAGES, ids: text.ids, posIds: text.posIds, textImage: text.textImage,
      imageBatch: 3, textBatch: 5,
      loadPixels: async (indices) => {
        events.push(`load ${indices.join(',')}`);
        await new Promise((resolve) => setImmediate(resolve));
        return pixels.slice(indices[0] * PIXELS, (indices[indices.length - 1] + 1) * PIXELS);
      },
      onProgress: (p) => events.push(`${p.phase} ${p.done}/${p.total}`),
    });
    expect(events).toEqual([
      'load 0,1,2', 'load 3,4,5', 'images 3/7', 'load 6', 'images 6/7', 'images 7/7',
      'texts 5/14', 'texts 10/14', 'texts 14/14',
    ]);

    const E = 12;
    const image = model.encodeImages(pixels, N_IMAGES);
    const textEmb = model.encodeTexts(text.ids, text.posIds, N_TEXTS);
    expectClose(result.imageEmbeddings, image, 1e-5, 1e-6, 'image embeddings');
    expectClose(result.textEmbeddings, textEmb, 1e-5, 1e-6, 'text embeddings');
    const sims = new Float32Array(N_IMAGES * N_TEXTS);
    for (let i = 0; i < N_IMAGES; i++) {
      for (let t = 0; t < N_TEXTS; t++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += image[i * E + e] * textEmb[t * E + e];
        sims[i * N_TEXTS + t] = dot;
      }
    }
    expectClose(result.sims, sims, 1e-5, 1e-6, 'sims');
    // The random model is far from perfect and far from useless: the ranks are a real test.
    const ranks = retrievalRanks(sims, N_IMAGES, N_TEXTS, text.textImage);
    expect(Array.from(result.ranks.text)).toEqual(Array.from(ranks.text));
    expect(Array.from(result.ranks.image)).toEqual(Array.from(ranks.image));
    expect(result.metrics).toEqual(retrievalMetrics(sims, N_IMAGES, N_TEXTS, text.textImage));
    expect(new Set(ranks.image).size).toBeGreaterThan(2);
  });

  it('uses the POS ids when given', async () => {
    const run = (posIds: Int32Array | null) => evaluateRetrieval({
      model, nImages: N_IMAGES, ids: text.ids, posIds, textImage: text.textImage,
      loadPixels: async (indices) => pixels.slice(indices[0] * PIXELS, (indices[indices.length - 1] + 1) * PIXELS),
    });
    const [withPos, without] = await Promise.all([run(text.posIds), run(null)]);
    expectClose(without.textEmbeddings, model.encodeTexts(text.ids, null, N_TEXTS), 1e-5, 1e-6);
    let diff = 0;
    for (let k = 0; k < withPos.textEmbeddings.length; k++) diff = Math.max(diff, Math.abs(withPos.textEmbeddings[k] - without.textEmbeddings[k]));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('names what is wrong with the loader or the captions', async () => {
    const base = { model, nImages: N_IMAGES, ids: text.ids, posIds: text.posIds, textImage: text.textImage };
    const failure = (p: Promise<unknown>) => p.then(() => 'no error', (e) => `${e.code}: ${e.message}`);
    expect(await failure(evaluateRetrieval({ ...base, loadPixels: async () => new Float32Array(5) })))
      .toMatch(/^POSAPL_SHAPE: .*loadPixels gave for images 0\.\.6/);
    expect(await failure(evaluateRetrieval({ ...base, loadPixels: async () => { throw new Error('cannot read 3.tif'); } })))
      .toMatch(/cannot read 3\.tif/);
    // A failing prefetch behind a failing batch is not left unhandled (jest would report it).
    let calls = 0;
    expect(await failure(evaluateRetrieval({
      ...base, imageBatch: 2,
      loadPixels: async () => {
        calls++;
        if (calls === 2) throw new Error('second batch');
        return new Float32Array(1);
      },
    }))).toMatch(/^POSAPL_SHAPE/);
    expect(await failure(evaluateRetrieval({ ...base, ids: text.ids.subarray(1), loadPixels: async () => pixels })))
      .toMatch(/^POSAPL_SHAPE: .*for ids/);
    expect(await failure(evaluateRetrieval({ ...base, imageBatch: 0, loadPixels: async () => pixels })))
      .toMatch(/^POSAPL_TYPE: .*for imageBatch/);
    expect(await failure(evaluateRetrieval({ ...base, textImage: new Int32Array(N_TEXTS).fill(9), loadPixels: async () => pixels })))
      .toMatch(/^POSAPL_SHAPE: .*textImage/);
  });
});
