/** The demo model: a valid tiny CLIP with every POSAPL part, fed by the byte-level tokenizer. */
import { resolveConfig, sideFusionTaps } from '../../../src/clip/config';
import { DEMO_CONFIG, DEMO_TRAINING } from '../../../src/demo/config';
import { demoSample } from '../../../src/demo/dataset';
import { loadModel } from '../../../src/posapl/loadModel';
import { ClipTokenizer, cleanCaption, tagPos } from '../../../src/text';

describe('DEMO_CONFIG', () => {
  it('is a complete, valid configuration with the paper\'s parts on and Side Fusion present', () => {
    expect(resolveConfig(DEMO_CONFIG)).toEqual(DEMO_CONFIG);
    expect(DEMO_CONFIG.posapl).toMatchObject({ sa_image: true, sa_text: true, pos: true, side_fusion_image: true, side_fusion_text: true, triplet: true });
    expect(sideFusionTaps(DEMO_CONFIG.vision_cfg.layers)).toHaveLength(4);
    expect(sideFusionTaps(DEMO_CONFIG.text_cfg.layers)).toHaveLength(4);
  });

  it('has a token table covering every byte-level id, SOT and EOT included', () => {
    const tokenizer = ClipTokenizer.byteLevel();
    expect(DEMO_CONFIG.text_cfg.vocab_size).toBe(tokenizer.vocabSize);
    expect(Math.max(tokenizer.sotTokenId, tokenizer.eotTokenId)).toBe(DEMO_CONFIG.text_cfg.vocab_size - 1);
  });

  it('settles the training numbers: whole batches from the default dataset, no gradient caching', () => {
    const { batchSize, microBatch, epochs, lr, trainImages, testImages, imageSize } = DEMO_TRAINING;
    expect(microBatch).toBe(batchSize);
    expect(Math.floor((trainImages * 5) / batchSize)).toBeGreaterThanOrEqual(100);
    expect(epochs).toBeGreaterThanOrEqual(1);
    expect(lr).toBeGreaterThan(0);
    expect(testImages).toBeGreaterThanOrEqual(100);
    expect(imageSize).toBeGreaterThanOrEqual(DEMO_CONFIG.vision_cfg.image_size);
  });

  it('holds most demo captions whole in its text context (one token per letter)', () => {
    const captions = Array.from({ length: 100 }, (_, i) => demoSample(3, 'train', i, 64).captions).flat();
    const whole = captions.filter((c) => ClipTokenizer.byteLevel().encodeText(cleanCaption(c)).length <= DEMO_CONFIG.text_cfg.context_length - 2);
    expect(whole.length / captions.length).toBeGreaterThan(0.8);
  });

  it('builds a model that embeds demo captions and trains on them', async () => {
    const model = await loadModel({ random: true, config: DEMO_CONFIG, seed: DEMO_TRAINING.seed });
    const tokenizer = ClipTokenizer.byteLevel();
    const L = DEMO_CONFIG.text_cfg.context_length;
    const S = DEMO_CONFIG.vision_cfg.image_size;
    const captions = [0, 1, 2, 3].map((i) => demoSample(1, 'train', i, S).captions[0]);
    const ids = tokenizer.encode(captions.map((c) => cleanCaption(c)), L);
    const posIds = tokenizer.encode(captions.map((c) => tagPos(cleanCaption(c)).join(' ')), L);
    const text = model.encodeTexts(ids, posIds, 4);
    expect(text).toHaveLength(4 * DEMO_CONFIG.embed_dim);
    expect(text.every(Number.isFinite)).toBe(true);
    const pixels = new Float32Array(4 * 3 * S * S).map((_, k) => Math.sin(k * 0.37));
    const losses = model.lossAndGradients({ pixels, ids, posIds, imageIds: new Int32Array([0, 1, 2, 3]), n: 4 });
    expect(Number.isFinite(losses.contrastive) && Number.isFinite(losses.triplet)).toBe(true);
    const grads = [...model.gradients().values()];
    expect(grads.some((g) => g.some((v) => v !== 0))).toBe(true);
  });
});
