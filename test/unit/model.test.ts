/** The POSAPL model's API: configuration, initialisation, ablations, checkpoints and bad input. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModelConfigInput, resolveConfig } from '../../src/clip/config';
import { loadModel } from '../../src/posapl/loadModel';
import { PosaplModel } from '../../src/posapl/model';
import { parameterSpecs } from '../../src/posapl/parameterSpecs';
import { randomArray, rng } from '../helpers/numeric';

const SMALL: ModelConfigInput = {
  embed_dim: 12,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 7, head_width: 8 },
  text_cfg: { context_length: 10, vocab_size: 50, width: 16, heads: 2, layers: 7 },
  posapl: { down_dim: 8, sa_heads: 2, pos_side: true, down_dim_pos: 8, side_fusion: 'end-add' },
};
const N = 5;

function inputs(seed: number) {
  const r = rng(seed);
  const ids = new Int32Array(N * 10);
  const posIds = new Int32Array(N * 10);
  for (let i = 0; i < N; i++) {
    const len = 3 + (i % 5);
    ids[i * 10] = 48;
    posIds[i * 10] = 48;
    for (let j = 1; j < len; j++) {
      ids[i * 10 + j] = 1 + Math.floor(r() * 46);
      posIds[i * 10 + j] = 1 + Math.floor(r() * 46);
    }
    ids[i * 10 + len] = 49;
    posIds[i * 10 + len] = 49;
  }
  return { pixels: randomArray(N * 3 * 32 * 32, seed), ids, posIds, imageIds: new Int32Array([0, 1, 1, 2, 3]), n: N };
}

function withFlags(flags: Record<string, unknown>): ModelConfigInput {
  return { ...SMALL, posapl: { ...SMALL.posapl, ...flags } };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('configuration', () => {
  it('resolves the paper presets with the flags of spec section 9', () => {
    const rsitmd = resolveConfig('rsitmd');
    const rsicd = resolveConfig('rsicd');
    expect(rsitmd.vision_cfg).toEqual({ image_size: 224, patch_size: 32, width: 768, layers: 12, head_width: 64 });
    expect(rsitmd.posapl).toMatchObject({ down_dim: 128, sa_heads: 8, pos_side: false, side_fusion: 'chained' });
    expect(rsicd.posapl).toMatchObject({ down_dim: 128, pos_side: true, down_dim_pos: 128, side_fusion: 'end-add' });
  });

  it('names every ViT-B/32 tensor as open_clip and the authors do', () => {
    const specs = parameterSpecs(resolveConfig('rsicd'));
    const byName = new Map(specs.map((s) => [s.name, s]));
    expect(byName.get('visual.conv1.weight')?.shape).toEqual([768, 3, 32, 32]);
    expect(byName.get('visual.positional_embedding')?.shape).toEqual([50, 768]);
    expect(byName.get('text.token_embedding.weight')?.shape).toEqual([49408, 512]);
    expect(byName.get('adapter_img.11.msa.in_proj_weight')?.shape).toEqual([384, 128]);
    expect(byName.get('adapter_pos.0.l1.weight')?.shape).toEqual([128, 512]);
    expect(byName.get('visual.adapter.adapter_4.1.weight')?.shape).toEqual([768, 768]);
    expect(byName.get('text.adapter.adapter_4.0.weight')?.shape).toEqual([512, 512]);
    expect(byName.get('adapter_text.3.l2.bias')?.aliases).toEqual(['text.transformer.resblocks.3.adapter.l2.bias']);
    expect(byName.get('adapter_pos.5.l2.weight')?.aliases).toEqual(['text.transformer.resblocks.5.adapter2.l2.weight']);
    // Trainable: exactly the names containing `adapter`.
    for (const s of specs) expect(s.trainable).toBe(s.name.includes('adapter'));
  });

  it('rejects a bad configuration naming the field', () => {
    expect(() => resolveConfig('rsixx' as never)).toThrow(/config/);
    expect(() => resolveConfig({ ...SMALL, vision_cfg: { ...SMALL.vision_cfg, width: 18 } })).toThrow(/vision_cfg\.width/);
    expect(() => resolveConfig(withFlags({ side_fusion: 'sideways' }))).toThrow(/posapl\.side_fusion/);
    expect(() => resolveConfig({ ...SMALL, embed_dim: 0 })).toThrow(/embed_dim/);
    try {
      resolveConfig(withFlags({ down_dim: 9 }));
      throw new Error('no error');
    } catch (e) {
      expect((e as { code?: string }).code).toBe('POSAPL_CONFIG');
    }
  });
});

describe('initialisation', () => {
  it('is reproducible from the seed and differs between seeds', async () => {
    const b = inputs(1);
    const e1 = (await loadModel({ random: true, config: SMALL, seed: 7 })).encodeImages(b.pixels, N);
    const e2 = (await loadModel({ random: true, config: SMALL, seed: 7 })).encodeImages(b.pixels, N);
    const e3 = (await loadModel({ random: true, config: SMALL, seed: 8 })).encodeImages(b.pixels, N);
    expect(e1).toEqual(e2);
    expect(maxAbsDiff(e1, e3)).toBeGreaterThan(1e-3);
  });

  it('is exactly plain CLIP at initialisation: zero output layers switch every adapter off', async () => {
    const b = inputs(2);
    const posapl = await loadModel({ random: true, config: SMALL, seed: 3 });
    const plain = await loadModel({
      random: true,
      config: withFlags({ sa_image: false, sa_text: false, pos: false, side_fusion_image: false, side_fusion_text: false }),
      seed: 3,
    });
    // Same seed, but the adapter tensors shift the generator: copy the backbone over.
    const plainState = plain.stateDict();
    for (const [name, t] of posapl.stateDict()) if (!name.includes('adapter')) (plainState.get(name) as { data: Float32Array }).data.set(t.data);
    expect(maxAbsDiff(posapl.encodeImages(b.pixels, N), plain.encodeImages(b.pixels, N))).toBeLessThan(1e-6);
    expect(maxAbsDiff(posapl.encodeTexts(b.ids, b.posIds, N), plain.encodeTexts(b.ids, null, N))).toBeLessThan(1e-6);
  });
});

describe('training step', () => {
  it('keeps gradients only for adapters and accumulates them across calls', async () => {
    const model = await loadModel({ random: true, config: SMALL, seed: 4 });
    const frozen = [...model.params.list].filter((p) => !p.spec.trainable);
    expect(frozen.every((p) => p.grad === null)).toBe(true);
    model.lossAndGradients(inputs(3));
    const once = new Map([...model.gradients()].map(([k, g]) => [k, g.slice()]));
    model.lossAndGradients(inputs(3));
    for (const [k, g] of model.gradients()) {
      const ref = once.get(k) as Float32Array;
      // Relative: gradients reach ~1e2 here, where float32 resolves ~1e-5.
      for (let i = 0; i < g.length; i += 7) expect(Math.abs(g[i] - 2 * ref[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(2 * ref[i])));
    }
    model.zeroGradients();
    for (const g of model.gradients().values()) expect(g.every((v) => v === 0)).toBe(true);
  });

  it('switches the triplet loss off for the ablation and reduces the loss with AdamW', async () => {
    const b = inputs(5);
    const model = await loadModel({ random: true, config: withFlags({ triplet: false }), seed: 5 });
    const first = model.lossAndGradients(b);
    expect(first.triplet).toBeGreaterThan(0); // still reported
    for (let t = 0; t < 8; t++) {
      model.zeroGradients();
      model.lossAndGradients(b);
      model.step(1e-2);
    }
    const last = model.lossAndGradients(b);
    expect(last.contrastive).toBeLessThan(first.contrastive);
    expect(model.steps).toBe(8);
  });
});

describe('checkpoints', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-model-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['torch', 'safetensors'] as const)('round-trips a trained model through a %s checkpoint', async (format) => {
    const b = inputs(6);
    const model = await loadModel({ random: true, config: SMALL, seed: 6 });
    model.lossAndGradients(b);
    model.step(1e-2);
    const full = path.join(dir, `full.${format}`);
    const adapters = path.join(dir, `adapters.${format}`);
    await model.save(full, { format });
    await model.save(adapters, { format, adaptersOnly: true });
    const expected = model.encodeTexts(b.ids, b.posIds, N);
    const fromFull = await loadModel({ random: true, config: SMALL, checkpoint: full, seed: 99 });
    expect(fromFull.encodeTexts(b.ids, b.posIds, N)).toEqual(expected);
    // Adapters only: the backbone must come from elsewhere (here the same seed).
    const fromAdapters = await loadModel({ random: true, config: SMALL, checkpoint: adapters, seed: 6 });
    expect(fromAdapters.encodeTexts(b.ids, b.posIds, N)).toEqual(expected);
  });

  it('rejects a checkpoint of another configuration, naming the file and the tensors', async () => {
    const other = await loadModel({ random: true, config: withFlags({ down_dim: 4 }), seed: 1 });
    const file = path.join(dir, 'other.bin');
    await other.save(file, { adaptersOnly: true });
    await expect(loadModel({ random: true, config: SMALL, checkpoint: file })).rejects.toThrow(/other\.bin.*\n.*shape mismatches.*adapter_img\.0\.l1\.weight/s);
    await expect(loadModel({ random: true, config: SMALL, checkpoint: path.join(dir, 'missing.bin') })).rejects.toThrow(/missing\.bin/);
  });
});

describe('bad input', () => {
  let model: PosaplModel;
  beforeAll(async () => {
    model = await loadModel({ random: true, config: SMALL });
  });

  it('names the argument for wrong kinds, lengths and counts', () => {
    const b = inputs(7);
    expect(() => model.encodeImages(new Float64Array(N * 3 * 32 * 32) as never, N)).toThrow(/Expected Float32Array .* for pixels but received Float64Array/);
    expect(() => model.encodeImages(b.pixels, N + 1)).toThrow(/for pixels but received length/);
    expect(() => model.encodeTexts(b.ids, b.posIds.subarray(1), N)).toThrow(/posIds/);
    expect(() => model.encodeTexts(b.ids, null, 0)).toThrow(/positive integer for n/);
    expect(() => model.lossAndGradients({ ...b, imageIds: new Int32Array(2) })).toThrow(/imageIds/);
    expect(() => model.lossAndGradients({ ...b, microBatch: 0 })).toThrow(/microBatch/);
    expect(() => model.step(Number.NaN)).toThrow(/lr/);
  });

  it('rejects token ids outside the vocabulary with the position', () => {
    const b = inputs(8);
    b.ids[13] = 50;
    expect(() => model.encodeTexts(b.ids, null, N)).toThrow(/ids\[13\] = 50/);
  });

  it('refuses use after dispose and a CUDA device on a CPU build', async () => {
    const m = await loadModel({ random: true, config: SMALL });
    m.dispose();
    expect(() => m.encodeImages(inputs(9).pixels, N)).toThrow(/disposed/);
    await expect(loadModel({ random: true, config: SMALL, device: 'cuda' })).rejects.toMatchObject({ code: 'POSAPL_NO_CUDA' });
  });
});
