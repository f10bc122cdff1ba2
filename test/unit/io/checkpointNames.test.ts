/**
 * Name mapping open_clip <-> POSAPL (spec section 10) and the state-dict report, checked against
 * the tiny models gen_checkpoints.py built from torch modules laid out like open_clip's and the
 * authors' (so the names and shapes come from module structure, not from these functions).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  ClipShapeConfig,
  addPosaplAliases,
  canonicalPosaplName,
  checkStateDict,
  formatStateDictReport,
  loadStateDict,
  openClipShapes,
  openClipToPosapl,
  posaplAliasName,
  posaplShapes,
  posaplToOpenClip,
  removePosaplAliases,
  stripStateDictPrefixes,
  toFloat32,
} from '../../../src/io';
import { expected, fixture, sumOf } from './checkpointFixtures';

const shapesOf = (sd: Map<string, { shape: number[] }>): Array<[string, number[]]> => [...sd].map(([k, v]) => [k, v.shape]);
const tiny = expected.posaplTiny;
const tinyOptions = { posSide: tiny.posSide, adapterWidth: tiny.adapterWidth, posAdapterWidth: tiny.posAdapterWidth };

describe('expected names and shapes', () => {
  it('openClipShapes matches the open_clip-layout torch model, names, order and shapes', async () => {
    const sd = await loadStateDict(fixture('openclip_tiny.bin'));
    expect(shapesOf(sd)).toEqual([...openClipShapes(expected.openClipTiny)]);
  });

  it("posaplShapes matches the authors'-layout torch model: canonical names in module order, aliases as a set", async () => {
    const sd = await loadStateDict(fixture('posapl_tiny.pt'));
    expect(shapesOf(removePosaplAliases(sd))).toEqual([...posaplShapes(tiny.config, tinyOptions)]);
    const withAliases = posaplShapes(tiny.config, { ...tinyOptions, aliases: true });
    expect(new Map(shapesOf(sd))).toEqual(withAliases);
    expect(checkStateDict(sd, withAliases).ok).toBe(true);
  });

  it('gives ViT-B/32 its 151,277,313 open_clip parameters and POSAPL its adapter names', () => {
    const config = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../../shared/data/ViT-B-32.json'), 'utf8')) as ClipShapeConfig;
    const count = (m: Map<string, number[]>): number => [...m.values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    expect(count(openClipShapes(config))).toBe(151_277_313);
    const rsicd = posaplShapes(config, { posSide: true });
    expect(rsicd.get('adapter_img.11.msa.in_proj_weight')).toEqual([384, 128]);
    expect(rsicd.get('adapter_text.0.l1.weight')).toEqual([128, 512]);
    expect(rsicd.get('adapter_pos.11.l2.weight')).toEqual([512, 128]);
    expect(rsicd.get('text.adapter_mlp.l1.weight')).toEqual([512, 512]);
    expect(rsicd.get('visual.adapter.adapter_4.1.weight')).toEqual([768, 768]);
    expect(rsicd.get('text.adapter.adapter_4.0.bias')).toEqual([512]);
    expect(rsicd.get('text.token_embedding.weight')).toEqual([49408, 512]);
    const rsitmd = posaplShapes(config, { posSide: false });
    expect([...rsitmd.keys()].some((k) => k.startsWith('adapter_pos.'))).toBe(false);
    expect(rsitmd.size).toBe(rsicd.size - 12 * 4);
  });

  it('has no Side Fusion below seven layers', () => {
    const shallow = posaplShapes(expected.openClipTiny, { posSide: false });
    expect([...shallow.keys()].filter((k) => /\.adapter\.adapter_/.test(k))).toEqual([]);
  });
});

describe('mapping', () => {
  it('maps an open_clip checkpoint onto the POSAPL backbone: only adapters are missing, values untouched', async () => {
    const openclip = await loadStateDict(fixture('openclip_tiny.bin'));
    const mapped = openClipToPosapl(openclip);
    expect(mapped.get('text.token_embedding.weight')).toBe(openclip.get('token_embedding.weight'));
    expect(mapped.get('visual.proj')).toBe(openclip.get('visual.proj'));
    expect(mapped.get('logit_scale')).toBe(openclip.get('logit_scale'));
    const report = checkStateDict(mapped, posaplShapes(expected.openClipTiny, { posSide: true }));
    expect(report.unexpected).toEqual([]);
    expect(report.shapeMismatches).toEqual([]);
    expect(report.missing.length).toBeGreaterThan(0);
    expect(report.missing.every((n) => n.includes('adapter'))).toBe(true);
  });

  it('maps POSAPL back to exactly the open_clip names, dropping adapters', async () => {
    const posapl = await loadStateDict(fixture('posapl_tiny.pt'));
    const back = posaplToOpenClip(posapl);
    expect(new Map(shapesOf(back))).toEqual(openClipShapes(tiny.config));
    expect(back.get('transformer.resblocks.3.mlp.c_fc.weight')).toBe(posapl.get('text.transformer.resblocks.3.mlp.c_fc.weight'));
    expect(openClipToPosapl(back).size).toBe(back.size);
  });

  it("loads the authors' model.-prefixed file with its aliases tied to the canonical tensors, values in place", async () => {
    const sd = await loadStateDict(fixture('posapl_tiny.pt'));
    expect(sd.get('visual.transformer.resblocks.2.adapter.msa.in_proj_weight')).toBe(sd.get('adapter_img.2.msa.in_proj_weight'));
    expect(sd.get('text.transformer.resblocks.6.adapter2.l1.bias')).toBe(sd.get('adapter_pos.6.l1.bias'));
    const want = expected.files['posapl_tiny.pt'] as { count: number; sums: number[] };
    expect(sd.size).toBe(want.count);
    [...sd.values()].forEach((entry, i) => expect(sumOf(toFloat32(entry))).toBeCloseTo(want.sums[i], 10));
  });

  it('converts between alias and canonical names, and adds / removes aliases', () => {
    expect(canonicalPosaplName('visual.transformer.resblocks.11.adapter.l1.weight')).toBe('adapter_img.11.l1.weight');
    expect(canonicalPosaplName('text.transformer.resblocks.0.adapter.msa.out_proj.bias')).toBe('adapter_text.0.msa.out_proj.bias');
    expect(canonicalPosaplName('text.transformer.resblocks.4.adapter2.l2.weight')).toBe('adapter_pos.4.l2.weight');
    expect(canonicalPosaplName('visual.adapter.adapter_1.0.weight')).toBe('visual.adapter.adapter_1.0.weight');
    expect(posaplAliasName('adapter_pos.4.l2.weight')).toBe('text.transformer.resblocks.4.adapter2.l2.weight');
    expect(posaplAliasName('text.adapter_mlp.l1.weight')).toBeUndefined();
    const value = { shape: [1] };
    const canonical = new Map([['adapter_img.0.l1.bias', value], ['visual.proj', { shape: [2] }]]);
    const full = addPosaplAliases(canonical);
    expect([...full.keys()]).toEqual(['adapter_img.0.l1.bias', 'visual.proj', 'visual.transformer.resblocks.0.adapter.l1.bias']);
    expect(full.get('visual.transformer.resblocks.0.adapter.l1.bias')).toBe(value);
    expect(removePosaplAliases(full)).toEqual(canonical);
    // An alias without its canonical name is renamed rather than lost.
    expect([...removePosaplAliases(new Map([['text.transformer.resblocks.1.adapter.l1.bias', value]])).keys()]).toEqual(['adapter_text.1.l1.bias']);
  });

  it('strips module. / model. only when every name has it', () => {
    const m = (keys: string[]): Map<string, number> => new Map(keys.map((k, i) => [k, i]));
    expect([...stripStateDictPrefixes(m(['module.model.a', 'module.model.b'])).keys()]).toEqual(['a', 'b']);
    expect([...stripStateDictPrefixes(m(['model.a', 'visual.b'])).keys()]).toEqual(['model.a', 'visual.b']);
    expect(stripStateDictPrefixes(m([])).size).toBe(0);
  });
});

describe('checkStateDict', () => {
  it('names missing, unexpected and mis-shaped tensors, and formats them', () => {
    const expectedShapes = new Map<string, number[]>([['a', [2, 3]], ['b', [4]], ['c', []]]);
    const actual = new Map([['a', { shape: [3, 2] }], ['c', { shape: [] }], ['z', { shape: [1] }]]);
    const report = checkStateDict(actual, expectedShapes);
    expect(report).toEqual({
      missing: ['b'],
      unexpected: ['z'],
      shapeMismatches: [{ name: 'a', expected: [2, 3], actual: [3, 2] }],
      ok: false,
    });
    expect(formatStateDictReport(report)).toBe('1 missing: b\n1 unexpected: z\n1 with other shapes: a [3, 2] (expected [2, 3])');
    expect(formatStateDictReport(checkStateDict(actual, new Map([['a', [3, 2]], ['c', []], ['z', [1]]])))).toMatch(/matches/);
    const many = checkStateDict(new Map(), new Map(Array.from({ length: 12 }, (_, i) => [`t${i}`, [1]])));
    expect(formatStateDictReport(many, 2)).toBe('12 missing: t0, t1, ... (10 more)');
  });
});
